//! The card-terminal (POS) connector: pairing, terminals, payment intents.

use crate::bindings::pos_world::exports::h2h::connector::pos as wit;
use crate::{Error, Lifecycle, Result, Tasks};

pub use wit::{
    CardPayment, EInvoicing, IntentKind, IntentQuery, IntentRequest, IntentResult, IntentStatus,
    Pairing, PaymentIntent, Terminal, VoidTarget,
};

/// What a POS connector implements. [`PosConnector::start_intent`] and
/// [`PosConnector::get_intent`] are required; the rest answer
/// [`Error::Unsupported`] until implemented. Every call but pairing gets the
/// device's API key, which the host keeps sealed: never log or store it.
pub trait PosConnector: Lifecycle + Tasks {
    /// Redeems a terminal's one-time pairing code for an API key.
    fn redeem_pairing_code(code: &str) -> Result<Pairing> {
        let _ = code;
        Err(Error::unsupported("redeem-pairing-code"))
    }

    /// Terminals available with a device's API key.
    fn list_terminals(api_key: &str) -> Result<Vec<Terminal>> {
        let _ = api_key;
        Err(Error::unsupported("list-terminals"))
    }

    /// Starts a sale or refund on a terminal; the request's reference must
    /// never start a second charge.
    fn start_intent(api_key: &str, request: IntentRequest) -> Result<PaymentIntent>;

    /// The current state of an intent.
    fn get_intent(api_key: &str, intent_id: &str) -> Result<PaymentIntent>;

    /// The intent started with `reference`, if any.
    fn find_intent(api_key: &str, reference: &str) -> Result<Option<PaymentIntent>> {
        let _ = (api_key, reference);
        Err(Error::unsupported("find-intent"))
    }

    /// Intents matching `query`.
    fn list_intents(api_key: &str, query: IntentQuery) -> Result<Vec<PaymentIntent>> {
        let _ = (api_key, query);
        Err(Error::unsupported("list-intents"))
    }

    /// Voids a completed payment.
    fn void_intent(api_key: &str, target: VoidTarget) -> Result<PaymentIntent> {
        let _ = (api_key, target);
        Err(Error::unsupported("void-intent"))
    }
}
