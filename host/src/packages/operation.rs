//! What an ERP user asks a plugin's company data or bank to do, as a
//! manifest's permissions name it (`[[permissions]] operations = [...]`)
//! and as the ERP API authorizes it: one type instead of strings.

use std::fmt;

/// An operation an ERP user asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Reading or changing the company's own records in the host
    /// (accounts, receivables, transfers waiting, events): guarded by
    /// company access alone, never by a plugin's permission.
    CompanyData,
    /// Fetching statements and balances (`sync-statements`).
    SyncStatements,
    /// Sending transfers to the bank (`submit-transfers`).
    SubmitTransfers,
    /// Opening a bank session (`open-session`).
    OpenSession,
    /// Pairing and unpairing card terminals (`pair-terminals`).
    PairTerminals,
    /// Starting, voiding and refunding card payments (`card-payments`).
    CardPayments,
    /// Running one of the plugin's tasks on demand (`task:<name>`).
    Task(String),
}

impl Operation {
    /// The operations a permission may guard, besides `task:<name>`.
    pub const GUARDABLE: [Operation; 5] = [
        Operation::SyncStatements,
        Operation::SubmitTransfers,
        Operation::OpenSession,
        Operation::PairTerminals,
        Operation::CardPayments,
    ];

    /// A guardable operation by the name a manifest writes.
    pub fn parse(name: &str) -> Option<Operation> {
        if let Some(task) = name.strip_prefix("task:") {
            return (!task.is_empty()).then(|| Operation::Task(task.to_owned()));
        }
        Self::GUARDABLE
            .into_iter()
            .find(|operation| operation.to_string() == name)
    }

    /// Whether it moves money: then it is denied unless the plugin declares
    /// a permission guarding it (and the user holds it), never allowed by
    /// default.
    pub fn moves_money(&self) -> bool {
        matches!(self, Operation::SubmitTransfers | Operation::CardPayments)
    }

    /// Whether a plugin's permissions may guard it.
    pub fn is_guardable(&self) -> bool {
        *self != Operation::CompanyData
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::CompanyData => f.write_str("read"),
            Operation::SyncStatements => f.write_str("sync-statements"),
            Operation::SubmitTransfers => f.write_str("submit-transfers"),
            Operation::OpenSession => f.write_str("open-session"),
            Operation::PairTerminals => f.write_str("pair-terminals"),
            Operation::CardPayments => f.write_str("card-payments"),
            Operation::Task(name) => write!(f, "task:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Operation;

    #[test]
    fn names_round_trip() {
        for operation in Operation::GUARDABLE
            .into_iter()
            .chain([Operation::Task("refresh-sessions".to_owned())])
        {
            assert_eq!(Operation::parse(&operation.to_string()), Some(operation));
        }
        assert_eq!(
            Operation::parse("company-data"),
            None,
            "company data is never guarded by a plugin"
        );
        assert_eq!(Operation::parse("task:"), None);
        assert_eq!(Operation::parse("sync"), None);
    }
}
