//! The tasks the host runs itself for plugins of a world, declared at
//! install beside the manifest's own (runner `host`): what the platform
//! promises connector authors, so the manifest reserves their names. Each
//! is run by the domain module that owns it, which registers its runner
//! with the scheduler (`settlements::sync::StatementSync`,
//! `sessions::SessionBot`, `terminals::PaymentRefresh`).

use crate::runtime::World;

/// One host task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostTaskSpec {
    /// The plugins it is declared for.
    pub world: World,
    /// Its name; a manifest may not declare a task of this name.
    pub name: &'static str,
    /// Its default schedule, which the admin may change like any task's.
    pub default_cron: &'static str,
    /// What admins read.
    pub description: &'static str,
}

/// The statement sync every bank connector gets.
pub const STATEMENT_SYNC: HostTaskSpec = HostTaskSpec {
    world: World::BankConnector,
    name: "sync-statements",
    default_cron: "0 6 * * *",
    description: "Fetch statements of the company's accounts (run by the host)",
};

/// The bot that keeps bank sessions alive every bank connector gets.
pub const SESSION_REFRESH: HostTaskSpec = HostTaskSpec {
    world: World::BankConnector,
    name: "bank-session-bot",
    default_cron: "*/20 * * * * *",
    description: "Refresh bank sessions before they expire and reopen dropped ones (run by the host)",
};

/// The refresh of unfinished card payments every card-terminal connector
/// gets (the seed's POS_GetTransactionIntent + Refresh_ERP_Status).
pub const CARD_PAYMENT_REFRESH: HostTaskSpec = HostTaskSpec {
    world: World::PosConnector,
    name: "card-payment-refresh",
    default_cron: "*/30 * * * * *",
    description: "Ask the provider about card payments and voids not yet finished (run by the host)",
};

/// Every host task.
pub const HOST_TASKS: [HostTaskSpec; 3] = [STATEMENT_SYNC, SESSION_REFRESH, CARD_PAYMENT_REFRESH];

/// The host tasks declared for plugins of `world`.
pub fn for_world(world: World) -> impl Iterator<Item = HostTaskSpec> {
    HOST_TASKS.into_iter().filter(move |t| t.world == world)
}
