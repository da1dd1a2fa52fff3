//! The smallest complete card-terminal connector: a terminal that approves
//! every sale at once.

use h2h_sdk::pos::{IntentRequest, IntentResult, IntentStatus, PaymentIntent};
use h2h_sdk::{Error, Lifecycle, PosConnector, Result, Tasks};

struct MinimalPos;

// No install or migration steps, and no scheduled tasks: the defaults do.
impl Lifecycle for MinimalPos {}
impl Tasks for MinimalPos {}

impl PosConnector for MinimalPos {
    fn start_intent(_api_key: &str, request: IntentRequest) -> Result<PaymentIntent> {
        // A real connector asks its provider here, through h2h_sdk::http,
        // with the device's API key.
        let now = h2h_sdk::time::rfc3339(h2h_sdk::time::now_unix());
        Ok(PaymentIntent {
            id: format!("intent-{}", request.reference),
            terminal: request.terminal,
            kind: request.kind,
            amount: request.amount,
            reference: request.reference,
            status: IntentStatus::Completed,
            status_code: 3,
            result: Some(IntentResult::Approved),
            result_code: Some(1),
            payment: None,
            created_at: now.clone(),
            updated_at: now,
            provider_response: "{}".to_owned(),
        })
    }

    fn get_intent(_api_key: &str, intent_id: &str) -> Result<PaymentIntent> {
        Err(Error::rejected(None, format!("no intent {intent_id}")))
    }
    // Pairing, terminals, listing and voids answer `unsupported` by default.
}

h2h_sdk::export_pos_connector!(MinimalPos);
