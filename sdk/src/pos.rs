//! The card-terminal (POS) connector: pairing, terminals, payment intents.

use crate::bindings::world::exports::h2h::connector::pos as wit;
use crate::{Error, Lifecycle, Result, Tasks};

pub use wit::{
    IntentKind, IntentRequest, IntentResult, IntentStatus, Pairing, PaymentIntent, Terminal,
};

/// What a POS connector implements. [`PosConnector::start_intent`] and
/// [`PosConnector::get_intent`] are required; the rest answer
/// [`Error::Unsupported`] until implemented.
pub trait PosConnector: Lifecycle + Tasks {
    /// Redeems a terminal's one-time pairing code for an API key.
    fn redeem_pairing_code(code: &str) -> Result<Pairing> {
        let _ = code;
        Err(Error::unsupported("redeem-pairing-code"))
    }

    /// Terminals available with the company's API key.
    fn list_terminals() -> Result<Vec<Terminal>> {
        Err(Error::unsupported("list-terminals"))
    }

    /// Starts a sale or refund on a terminal.
    fn start_intent(request: IntentRequest) -> Result<PaymentIntent>;

    /// The current state of an intent.
    fn get_intent(intent_id: &str) -> Result<PaymentIntent>;

    /// Intents created in `[from, to)` (RFC 3339 instants).
    fn list_intents(from: &str, to: &str) -> Result<Vec<PaymentIntent>> {
        let _ = (from, to);
        Err(Error::unsupported("list-intents"))
    }

    /// Voids a completed intent.
    fn void_intent(intent_id: &str) -> Result<PaymentIntent> {
        let _ = intent_id;
        Err(Error::unsupported("void-intent"))
    }
}
