//! Bank sessions: a smart-card signature over the bank's challenge opens
//! one; its token lives 600 s and the host's bot refreshes it every minute
//! (the seed's `PkoRefreshSessions`). The host keeps the session's secret
//! sealed; this connector keeps only the pending login between
//! `open-session` and `complete-session`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use h2h_sdk::bank::{
    Challenge, ChallengeSignature, LoginMethod, Session, SessionRequest, SessionState,
};
use h2h_sdk::config::{self, SessionContext};
use h2h_sdk::signing::Mechanism;
use h2h_sdk::{Error, Result, storage, time};
use serde::{Deserialize, Serialize};

use crate::api::{Auth, Call, Client, json};

/// How often the host's bot refreshes a session: the seed's bot runs every
/// minute for a token valid 600 s.
pub const REFRESH_EVERY_SECONDS: u32 = 60;

/// What the host seals for an active session.
#[derive(Serialize, Deserialize)]
pub struct SessionSecret {
    /// The bank's token.
    pub token: String,
    /// The certificate the session was opened with, base64 DER: the card
    /// that signs this user's batches.
    pub certificate: Option<String>,
}

/// A login waiting for its signature, kept in plugin storage.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    user_id: String,
    context_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeRequest<'a> {
    user_id: &'a str,
    context_id: &'a str,
    certificate: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeAnswer {
    session_id: String,
    challenge: String,
    mechanism: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginRequest<'a> {
    session_id: &'a str,
    signature: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswer {
    token: String,
    expires_in: u64,
    context_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshAnswer {
    expires_in: u64,
}

fn pending_key(session_id: &str) -> String {
    format!("login/{session_id}")
}

/// The company's ContextId: the request's, else the company setting.
fn context_id(request: &SessionRequest) -> Result<String> {
    match request.company_ids.as_slice() {
        [] => config::require_setting("context-id").map(|c| c.trim().to_owned()),
        [one] => Ok(one.trim().to_owned()),
        more => Err(Error::invalid_input(format!(
            "a PKO BP Integra session is opened for one ContextId, not {}",
            more.len()
        ))),
    }
}

fn mechanism(name: &str) -> Result<Mechanism> {
    match name {
        "rsa-pkcs1-sha256" => Ok(Mechanism::RsaPkcs1Sha256),
        "ecdsa-p256-sha256" => Ok(Mechanism::EcdsaP256Sha256),
        other => Err(Error::protocol(format!(
            "PKO BP asks for a signature by `{other}`, which this connector does not know"
        ))),
    }
}

/// `open-session`: asks the bank for a challenge for the user's card.
pub fn open(request: SessionRequest) -> Result<Session> {
    if request.method != LoginMethod::Signature {
        return Err(Error::unsupported(
            "PKO BP Integra opens sessions only by smart-card signature",
        ));
    }
    let user_id = request.bank_user_id.trim();
    if user_id.is_empty() {
        return Err(Error::invalid_input("no PKO BP user id given"));
    }
    let certificate = request
        .certificate
        .as_ref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::invalid_input("a smart-card login needs the card's certificate"))?;
    let context_id = context_id(&request)?;
    let answer = Client::from_config()?.post(
        "session/challenge",
        &ChallengeRequest {
            user_id,
            context_id: &context_id,
            certificate: BASE64.encode(certificate),
        },
        None,
        Call::Login,
    )?;
    let answer: ChallengeAnswer = json(&answer, "the challenge")?;
    let data = BASE64
        .decode(answer.challenge.trim())
        .map_err(|e| Error::protocol(format!("PKO BP sent a challenge that is not base64: {e}")))?;
    storage::set(
        &pending_key(&answer.session_id),
        &PendingLogin {
            user_id: user_id.to_owned(),
            context_id: context_id.clone(),
        },
    )?;
    Ok(Session {
        state: SessionState::AwaitingSignature,
        company_ids: vec![context_id.clone()],
        challenge: Some(Challenge {
            data,
            mechanism: mechanism(&answer.mechanism)?,
            message: Some(format!(
                "Logowanie do PKO BP Integra: użytkownik {user_id}, ContextId {context_id}"
            )),
        }),
        ..Session::active(answer.session_id, user_id)
    })
}

/// `complete-session`: logs in with the signature of the challenge.
pub fn complete(session_id: &str, signature: ChallengeSignature) -> Result<Session> {
    let key = pending_key(session_id);
    let Some(pending) = storage::get::<PendingLogin>(&key)? else {
        return Err(Error::rejected(
            None,
            format!("no PKO BP login {session_id} waits for a signature"),
        ));
    };
    // The bank takes one attempt per challenge, failed or not.
    storage::delete(&key)?;
    let answer = Client::from_config()?.post(
        "session/login",
        &LoginRequest {
            session_id,
            signature: BASE64.encode(&signature.signature),
        },
        None,
        Call::Login,
    )?;
    let answer: LoginAnswer = json(&answer, "the login")?;
    if !answer.context_ids.contains(&pending.context_id) {
        return Err(Error::protocol(format!(
            "PKO BP opened a session without ContextId {}",
            pending.context_id
        )));
    }
    let secret = SessionSecret {
        token: answer.token,
        certificate: (!signature.certificate.is_empty())
            .then(|| BASE64.encode(&signature.certificate)),
    };
    Ok(Session {
        company_ids: answer.context_ids,
        expires_at: Some(time::in_seconds(answer.expires_in)),
        refresh_every_seconds: Some(REFRESH_EVERY_SECONDS),
        secret: Some(serde_json::to_string(&secret)?),
        ..Session::active(session_id, pending.user_id)
    })
}

/// The session the host chose for this call, required.
pub fn current() -> Result<(SessionContext, SessionSecret)> {
    let Some(session) = config::invocation().session else {
        return Err(Error::session_required(
            "no PKO BP Integra session is active: a user must open one with their smart card",
        ));
    };
    let secret = session
        .secret
        .as_deref()
        .ok_or_else(|| Error::session_required("the session holds no PKO BP token"))
        .and_then(|s| {
            serde_json::from_str::<SessionSecret>(s).map_err(|e| {
                Error::session_required(format!("the session's secret is unreadable: {e}"))
            })
        })?;
    Ok((session, secret))
}

/// The session for work of the company's ContextId, refused before it
/// reaches the bank when the session does not cover it.
pub fn for_company() -> Result<(SessionSecret, String)> {
    let (session, secret) = current()?;
    let context_id = config::require_setting("context-id")?.trim().to_owned();
    if !session.company_ids.contains(&context_id) {
        return Err(Error::session_required(format!(
            "the session of {} does not cover ContextId {context_id}",
            session.bank_user_id
        )));
    }
    Ok((secret, context_id))
}

/// The current session, checked to be `session_id`.
fn this_session(session_id: &str) -> Result<(SessionContext, SessionSecret)> {
    let (session, secret) = current()?;
    if session.id != session_id {
        return Err(Error::invalid_input(format!(
            "asked for session {session_id}, the host passed {}",
            session.id
        )));
    }
    Ok((session, secret))
}

/// `refresh-session`: extends the token by another 600 s.
pub fn refresh(session_id: &str) -> Result<Session> {
    let (session, secret) = this_session(session_id)?;
    let auth = Auth {
        token: &secret.token,
        context_id: None,
    };
    let answer = Client::from_config()?.post(
        "session/refresh",
        &serde_json::json!({}),
        Some(&auth),
        Call::Session,
    )?;
    let answer: RefreshAnswer = json(&answer, "the refresh")?;
    Ok(Session {
        company_ids: session.company_ids,
        expires_at: Some(time::in_seconds(answer.expires_in)),
        refresh_every_seconds: Some(REFRESH_EVERY_SECONDS),
        ..Session::active(session_id, session.bank_user_id)
    })
}

/// `close-session`: logs out; a session the bank already ended is closed.
pub fn close(session_id: &str) -> Result<()> {
    if storage::delete(&pending_key(session_id))? {
        return Ok(());
    }
    let (_, secret) = this_session(session_id)?;
    let auth = Auth {
        token: &secret.token,
        context_id: None,
    };
    match Client::from_config()?.post(
        "session/logout",
        &serde_json::json!({}),
        Some(&auth),
        Call::Session,
    ) {
        Ok(_) | Err(Error::SessionRequired(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
