//! Why a token operation failed. Messages name the token (and company or
//! key) so a user knows what to do; none ever contains a PIN.

use crate::vault::VaultError;

/// Why a token could not be registered, opened or used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A token name must be a slug, as plugin and company ids are.
    #[error(
        "`{0}` is not a valid token name: use lowercase letters, digits and inner dashes (at most 64)"
    )]
    InvalidName(String),
    /// No token of that name is registered.
    #[error("token `{0}` is not registered")]
    UnknownToken(String),
    /// The name is taken.
    #[error("token `{0}` is already registered")]
    TokenExists(String),
    /// The PKCS#11 module could not be loaded or initialized.
    #[error("PKCS#11 module {path}: {reason}")]
    ModuleLoad {
        /// The module path as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The slot or token label the registration names is not there.
    #[error("token `{token}`: {wanted} not found in {module}; {available}")]
    SlotNotFound {
        /// The token name (or the name being registered).
        token: String,
        /// `slot 3` or `token label `x``.
        wanted: String,
        /// The module path.
        module: String,
        /// What the module offers instead.
        available: String,
    },
    /// The slot is there but holds no token (card removed).
    #[error("token `{token}`: no token is present in slot {slot}")]
    TokenNotPresent {
        /// The token name.
        token: String,
        /// The slot id.
        slot: u64,
    },
    /// The token refused the PIN.
    #[error("token `{token}`: wrong PIN{}", tries.hint())]
    WrongPin {
        /// The token name.
        token: String,
        /// What the token says about the tries left.
        tries: TriesLeft,
    },
    /// The host stopped sending PINs: this many were wrong in a row, and a
    /// real card locks after a few more.
    #[error(
        "token `{token}`: {count} wrong PINs in a row; the host sends no more before the card \
         would lock; an admin resets the count with `h2h token reset-pins {token}` once the \
         right PIN is known"
    )]
    PinAttemptsExhausted {
        /// The token name.
        token: String,
        /// Wrong PINs in a row.
        count: i64,
    },
    /// A signing session of this company is open on the token: a new PIN
    /// is not tried over it (a wrong one would log out a working session).
    #[error(
        "token `{token}`: company `{company}` already has a signing session on it; close it \
         before logging in again"
    )]
    SessionOpen {
        /// The token name.
        token: String,
        /// The company.
        company: String,
    },
    /// The token's user PIN is locked; no PIN was sent.
    #[error(
        "token `{token}`: PIN locked; unblock it with the token's administration tool before signing"
    )]
    PinLocked {
        /// The token name.
        token: String,
    },
    /// A saved PIN was refused; it was deleted so it is never retried.
    #[error(
        "token `{token}`: the saved PIN of company `{company}` was refused as wrong and has been deleted; an ERP user must open a signing session with the PIN"
    )]
    SavedPinRejected {
        /// The token name.
        token: String,
        /// The company whose PIN it was.
        company: String,
    },
    /// No session is open for the company, and no PIN is saved.
    #[error(
        "token `{token}`: no signing session is open for company `{company}`; an ERP user must open one with the token's PIN"
    )]
    SessionRequired {
        /// The token name.
        token: String,
        /// The company.
        company: String,
    },
    /// Sessions belong to a company; the call runs for none.
    #[error("signing needs a company, and this call runs for none")]
    CompanyRequired,
    /// Another company is logged in to the same token.
    #[error(
        "token `{token}` is in use by company `{company}`'s signing session; close that session first"
    )]
    TokenBusy {
        /// The token name.
        token: String,
        /// The company whose session holds it.
        company: String,
    },
    /// No private key with that id (or the id is malformed).
    #[error("no signing key `{0}` on the token")]
    KeyNotFound(String),
    /// The key (or its token) cannot sign with the mechanism.
    #[error("key `{key_id}` cannot sign with {mechanism}: {reason}")]
    UnsupportedMechanism {
        /// The key id.
        key_id: String,
        /// The mechanism asked for.
        mechanism: String,
        /// Why: the key's type and what it signs with, or the token lacks
        /// the mechanism.
        reason: String,
    },
    /// No company has that id.
    #[error("company `{0}` does not exist")]
    UnknownCompany(String),
    /// The plugin's manifest does not ask for signing.
    #[error(
        "plugin `{0}` does not declare `capabilities.signing = true` in its manifest, so it cannot be granted signing"
    )]
    SigningNotDeclared(String),
    /// Any other refusal of the PKCS#11 module.
    #[error("token `{token}`: {operation} failed: {reason}")]
    Pkcs11 {
        /// The token name.
        token: String,
        /// What was attempted.
        operation: &'static str,
        /// The module's answer.
        reason: String,
    },
    /// A PIN was to be saved, but this host has no vault.
    #[error("this host has no vault, so a PIN cannot be saved")]
    VaultUnavailable,
    /// A blocking token call did not finish (it panicked).
    #[error("a token operation stopped unexpectedly: {0}")]
    Internal(String),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a token reports about the PIN tries left after a wrong PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriesLeft {
    /// Nothing said.
    Unknown,
    /// `CKF_USER_PIN_COUNT_LOW`.
    Few,
    /// `CKF_USER_PIN_FINAL_TRY`.
    Last,
}

impl TriesLeft {
    fn hint(self) -> &'static str {
        match self {
            TriesLeft::Unknown => "",
            TriesLeft::Few => " (the token reports few tries left before it locks the PIN)",
            TriesLeft::Last => " (one try left before the token locks the PIN)",
        }
    }
}

impl TokenError {
    /// A stable snake_case code for scripts and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenError::InvalidName(_) => "invalid_token_name",
            TokenError::UnknownToken(_) => "unknown_token",
            TokenError::TokenExists(_) => "token_exists",
            TokenError::ModuleLoad { .. } => "module_load",
            TokenError::SlotNotFound { .. } => "slot_not_found",
            TokenError::TokenNotPresent { .. } => "token_not_present",
            TokenError::WrongPin { .. } => "wrong_pin",
            TokenError::PinLocked { .. } => "pin_locked",
            TokenError::PinAttemptsExhausted { .. } => "pin_attempts_exhausted",
            TokenError::SessionOpen { .. } => "signing_session_open",
            TokenError::SavedPinRejected { .. } => "saved_pin_rejected",
            TokenError::SessionRequired { .. } => "session_required",
            TokenError::CompanyRequired => "company_required",
            TokenError::TokenBusy { .. } => "token_busy",
            TokenError::KeyNotFound(_) => "key_not_found",
            TokenError::UnsupportedMechanism { .. } => "unsupported_mechanism",
            TokenError::UnknownCompany(_) => "unknown_company",
            TokenError::SigningNotDeclared(_) => "signing_not_declared",
            TokenError::Pkcs11 { .. } => "pkcs11_error",
            TokenError::VaultUnavailable => "vault_unavailable",
            TokenError::Internal(_) => "internal_error",
            TokenError::Vault(e) => e.kind(),
            TokenError::Database(_) => "database_error",
        }
    }

    /// Whether the caller or the token is at fault (4xx) rather than the
    /// host (5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            TokenError::Internal(_)
                | TokenError::Vault(_)
                | TokenError::Database(_)
                | TokenError::VaultUnavailable
        )
    }
}
