//! A bank's session protocol as the host tests need it, driven by company
//! settings:
//!
//! - `signature`: `awaiting-signature` with a challenge (mechanism from
//!   `session-mechanism`, default `rsa-pkcs1-sha256`); `complete-session`
//!   makes it `active`, its message carrying the signature it got in hex so
//!   a test can verify it independently;
//! - `mobile-confirmation`: `pending-confirmation` until the
//!   `confirm-after`-th poll (default 1), then `active`, or `rejected`
//!   when `confirm-result` is `reject`;
//! - `stored-credentials`: `active` at once.
//!
//! An active session's secret is `token-<n>`; each refresh hands out the
//! next one and checks the host passed the current one back. Expiry is
//! 600 s ahead, refresh every 60 s, as PKO BP does. `session-drop` = `yes`
//! makes a refresh find the session gone; `refresh-fail` = `yes` makes it
//! fail as if the bank were down. With `needs-session` = `yes`, statements
//! need an active session's token.

use h2h_sdk::bank::{
    Challenge, ChallengeSignature, LoginMethod, Session, SessionRequest, SessionState,
};
use h2h_sdk::signing::Mechanism;
use h2h_sdk::{Error, Result, config, storage, time};

const VALID_SECONDS: u64 = 600;
const REFRESH_EVERY: u32 = 60;

fn active(id: &str, bank_user_id: &str, company_ids: Vec<String>, generation: u32) -> Session {
    Session {
        state: SessionState::Active,
        company_ids,
        expires_at: Some(time::in_seconds(VALID_SECONDS)),
        refresh_every_seconds: Some(REFRESH_EVERY),
        secret: Some(format!("token-{generation}")),
        ..Session::active(id, bank_user_id)
    }
}

fn mechanism() -> Result<Mechanism> {
    match config::setting("session-mechanism").as_deref() {
        None | Some("rsa-pkcs1-sha256") => Ok(Mechanism::RsaPkcs1Sha256),
        Some("rsa-pss-sha256") => Ok(Mechanism::RsaPssSha256),
        Some("ecdsa-p256-sha256") => Ok(Mechanism::EcdsaP256Sha256),
        Some(other) => Err(Error::invalid_input(format!("unknown mechanism `{other}`"))),
    }
}

/// `open-session`.
pub fn open(request: SessionRequest) -> Result<Session> {
    let id = format!("s-{}-{}", request.bank_user_id, time::now_unix());
    let company_ids = if request.company_ids.is_empty() {
        vec![config::require_setting("context-id")?]
    } else {
        request.company_ids.clone()
    };
    let user = request.bank_user_id.clone();
    match request.method {
        LoginMethod::StoredCredentials => Ok(active(&id, &user, company_ids, 1)),
        LoginMethod::Signature => {
            if request.certificate.as_ref().is_none_or(Vec::is_empty) {
                return Err(Error::invalid_input(
                    "a signature login needs the certificate",
                ));
            }
            let data = format!("h2h login {user} {id}").into_bytes();
            storage::set(&format!("challenge/{id}"), &data)?;
            Ok(Session {
                state: SessionState::AwaitingSignature,
                company_ids,
                challenge: Some(Challenge {
                    data,
                    mechanism: mechanism()?,
                    message: Some(format!("Log in as {user}")),
                }),
                ..Session::active(id, user)
            })
        }
        LoginMethod::MobileConfirmation => {
            storage::set(&format!("polls/{id}"), &0u32)?;
            Ok(Session {
                state: SessionState::PendingConfirmation,
                company_ids,
                message: Some("Confirm the login in the bank's app".to_owned()),
                ..Session::active(id, user)
            })
        }
    }
}

/// `complete-session`.
pub fn complete(session_id: &str, signature: ChallengeSignature) -> Result<Session> {
    let Some(challenge) = storage::get::<Vec<u8>>(&format!("challenge/{session_id}"))? else {
        return Err(Error::rejected(
            None,
            format!("no login {session_id} waits for a signature"),
        ));
    };
    if signature.signature.is_empty() || signature.certificate.is_empty() {
        return Err(Error::rejected(None, "an empty signature or certificate"));
    }
    storage::delete(&format!("challenge/{session_id}"))?;
    let signed = String::from_utf8_lossy(&challenge).into_owned();
    let user = session_user(session_id);
    let company_ids = vec![config::require_setting("context-id")?];
    let hex: String = signature
        .signature
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Session {
        message: Some(format!("signature {hex} over {signed}")),
        ..active(session_id, &user, company_ids, 1)
    })
}

/// `refresh-session`: extends an active session, polls a pending one.
pub fn refresh(session_id: &str) -> Result<Session> {
    let user = session_user(session_id);
    let company_ids = vec![config::require_setting("context-id")?];
    let polls_key = format!("polls/{session_id}");
    if let Some(polls) = storage::get::<u32>(&polls_key)? {
        let polls = polls + 1;
        let needed: u32 = config::setting("confirm-after")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        if polls < needed {
            storage::set(&polls_key, &polls)?;
            return Ok(Session {
                state: SessionState::PendingConfirmation,
                company_ids,
                ..Session::active(session_id, user)
            });
        }
        storage::delete(&polls_key)?;
        if config::setting("confirm-result").as_deref() == Some("reject") {
            return Ok(Session {
                state: SessionState::Rejected,
                message: Some("the user refused the login in the app".to_owned()),
                ..Session::active(session_id, user)
            });
        }
        return Ok(active(session_id, &user, company_ids, 1));
    }
    if config::setting("session-drop").as_deref() == Some("yes") {
        return Err(Error::session_required(
            "the bank no longer knows this session",
        ));
    }
    if config::setting("refresh-fail").as_deref() == Some("yes") {
        return Err(Error::unavailable("the bank is down"));
    }
    let current = config::invocation()
        .session
        .and_then(|s| s.secret)
        .ok_or_else(|| Error::session_required("the host passed no session secret"))?;
    let generation: u32 = current
        .strip_prefix("token-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| Error::protocol(format!("not a token this bank issued: {current}")))?;
    Ok(active(session_id, &user, company_ids, generation + 1))
}

fn session_user(session_id: &str) -> String {
    session_id
        .strip_prefix("s-")
        .and_then(|rest| rest.rsplit_once('-'))
        .map_or_else(String::new, |(user, _)| user.to_owned())
}

/// With `needs-session` = `yes`: the call must run with a session whose
/// token this bank issued, as PKO's statement download does.
pub fn require_when_asked() -> Result<()> {
    if config::setting("needs-session").as_deref() != Some("yes") {
        return Ok(());
    }
    let token = config::invocation().session.and_then(|s| s.secret);
    match token {
        Some(token) if token.starts_with("token-") => Ok(()),
        _ => Err(Error::session_required(
            "statements need a bank session; log in first",
        )),
    }
}
