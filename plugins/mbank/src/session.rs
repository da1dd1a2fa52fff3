//! Long-lived CompanyNet sessions, two ways in:
//!
//! - `signature`: the bank's challenge covers the user, the DIKs and the
//!   expiry the user chose; the user's qualified certificate (card) signs
//!   it and `complete-session` logs in. The session lives until its
//!   `validUntil` whatever the idle time.
//! - `mobile-confirmation`: the login waits for the user to confirm it in
//!   mBank CompanyMobile; the host's bot polls (`refresh-session`) until it
//!   is confirmed (`active`), rejected or expired. A mobile session ends
//!   after 30 minutes without a request, so the bot's refresh is the bank's
//!   keepalive, well inside that.
//!
//! The host keeps the session and seals its secret (the token and the
//! certificate); this connector keeps only a signature login waiting for
//! its signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use h2h_sdk::bank::{
    Challenge, ChallengeSignature, LoginMethod, Session, SessionRequest, SessionState,
};
use h2h_sdk::config::{self, SessionContext};
use h2h_sdk::signing::Mechanism;
use h2h_sdk::{Error, Result, storage, time};
use serde::{Deserialize, Serialize};

use crate::api::{Auth, Call, Client, json, path};

/// How often the bot refreshes an active mobile session: the bank closes
/// one after 1800 s without a request (assumed), so every 5 minutes.
pub const MOBILE_REFRESH_SECONDS: u32 = 300;
/// A signature session does not idle out; an hourly keepalive notices a
/// session the bank ended.
pub const SIGNATURE_REFRESH_SECONDS: u32 = 3600;
/// How often the bot polls a login waiting for the app's confirmation.
pub const PENDING_POLL_SECONDS: u32 = 5;
/// The bank's longest session (assumed 90 days); asked for when the user
/// picks no end date (the bank caps what it grants anyway).
pub const DEFAULT_VALIDITY_SECONDS: u64 = 90 * 86_400;

/// What the host seals for an active session.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct SessionSecret {
    /// The bank's token.
    pub token: String,
    /// The certificate the session was opened with, base64 DER: the card
    /// that signs this user's batches. None for a mobile login.
    pub certificate: Option<String>,
    /// `SIGNATURE` or `MOBILE`, as the bank says.
    pub kind: String,
}

/// A signature login waiting for its signature, kept in plugin storage.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    user_id: String,
    diks: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeRequest<'a> {
    user_id: &'a str,
    diks: &'a [String],
    valid_until: &'a str,
    certificate: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeAnswer {
    challenge_id: String,
    challenge: String,
    mechanism: String,
    diks: Vec<String>,
    valid_until: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginRequest<'a> {
    challenge_id: &'a str,
    signature: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MobileRequest<'a> {
    user_id: &'a str,
    diks: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<&'a str>,
}

/// The bank's session: the login's and keepalive's answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BankSession {
    token: String,
    kind: String,
    user_id: String,
    diks: Vec<String>,
    valid_until: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MobileStarted {
    login_id: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MobileStatus {
    status: String,
    #[serde(flatten)]
    session: Option<BankSession>,
}

fn pending_key(session_id: &str) -> String {
    format!("login/{session_id}")
}

/// The DIKs a session should cover: the request's, else the company's.
pub fn requested_diks(requested: &[String], company_dik: Option<&str>) -> Result<Vec<String>> {
    let mut diks: Vec<String> = Vec::new();
    for dik in requested.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
        if !dik.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid_input(format!(
                "`{dik}` is not an mBank DIK (letters and digits)"
            )));
        }
        if !diks.iter().any(|d| d == dik) {
            diks.push(dik.to_owned());
        }
    }
    if diks.is_empty() {
        let own = company_dik.map(str::trim).filter(|d| !d.is_empty()).ok_or_else(|| {
            Error::invalid_input(
                "no DIK to open the session for: name them in company_ids or set the company's `dik` ([mBank] mBankDIK)",
            )
        })?;
        diks.push(own.to_owned());
    }
    Ok(diks)
}

fn mechanism(name: &str) -> Result<Mechanism> {
    match name {
        "rsa-pkcs1-sha256" => Ok(Mechanism::RsaPkcs1Sha256),
        "ecdsa-p256-sha256" => Ok(Mechanism::EcdsaP256Sha256),
        other => Err(Error::protocol(format!(
            "mBank asks for a signature by `{other}`, which this connector does not know"
        ))),
    }
}

/// The state a mobile login's status word means.
pub fn mobile_state(status: &str) -> Result<SessionState> {
    match status {
        "PENDING" => Ok(SessionState::PendingConfirmation),
        "CONFIRMED" => Ok(SessionState::Active),
        "REJECTED" => Ok(SessionState::Rejected),
        "EXPIRED" => Ok(SessionState::Expired),
        other => Err(Error::protocol(format!(
            "mBank says the mobile login is `{other}`, a state this connector does not know"
        ))),
    }
}

fn refresh_every(kind: &str) -> u32 {
    if kind == "MOBILE" {
        MOBILE_REFRESH_SECONDS
    } else {
        SIGNATURE_REFRESH_SECONDS
    }
}

/// The active session the bank describes, with its secret.
fn active(id: &str, bank: BankSession, certificate: Option<String>) -> Result<Session> {
    let secret = SessionSecret {
        token: bank.token,
        certificate,
        kind: bank.kind.clone(),
    };
    Ok(Session {
        company_ids: bank.diks,
        expires_at: Some(bank.valid_until),
        refresh_every_seconds: Some(refresh_every(&bank.kind)),
        secret: Some(serde_json::to_string(&secret)?),
        ..Session::active(id, bank.user_id)
    })
}

/// `open-session`.
pub fn open(request: SessionRequest) -> Result<Session> {
    let user_id = request.bank_user_id.trim();
    if user_id.is_empty() {
        return Err(Error::invalid_input("no mBank user id given"));
    }
    let diks = requested_diks(&request.company_ids, config::setting("dik").as_deref())?;
    match request.method {
        LoginMethod::Signature => open_signature(&request, user_id, &diks),
        LoginMethod::MobileConfirmation => open_mobile(&request, user_id, &diks),
        LoginMethod::StoredCredentials => Err(Error::unsupported(
            "mBank CompanyNet opens sessions by qualified signature or mobile token, not stored credentials",
        )),
    }
}

fn open_signature(request: &SessionRequest, user_id: &str, diks: &[String]) -> Result<Session> {
    let certificate = request
        .certificate
        .as_ref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::invalid_input(
                "a signature login needs the certificate registered at mBank for the user",
            )
        })?;
    let until = request
        .valid_until
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map_or_else(|| time::in_seconds(DEFAULT_VALIDITY_SECONDS), str::to_owned);
    let answer = Client::from_config().post(
        path::CHALLENGE,
        &ChallengeRequest {
            user_id,
            diks,
            valid_until: &until,
            certificate: BASE64.encode(certificate),
        },
        None,
        Call::Login,
    )?;
    let answer: ChallengeAnswer = json(&answer, "the challenge")?;
    let data = BASE64
        .decode(answer.challenge.trim())
        .map_err(|e| Error::protocol(format!("mBank sent a challenge that is not base64: {e}")))?;
    storage::set(
        &pending_key(&answer.challenge_id),
        &PendingLogin {
            user_id: user_id.to_owned(),
            diks: answer.diks.clone(),
        },
    )?;
    Ok(Session {
        state: SessionState::AwaitingSignature,
        company_ids: answer.diks.clone(),
        expires_at: Some(answer.valid_until.clone()),
        challenge: Some(Challenge {
            data,
            mechanism: mechanism(&answer.mechanism)?,
            message: Some(format!(
                "Sesja długotrwała mBank CompanyNet: użytkownik {user_id}, DIK {}, ważna do {}",
                answer.diks.join(", "),
                answer.valid_until
            )),
        }),
        ..Session::active(answer.challenge_id, user_id)
    })
}

fn open_mobile(request: &SessionRequest, user_id: &str, diks: &[String]) -> Result<Session> {
    let answer = Client::from_config().post(
        path::MOBILE,
        &MobileRequest {
            user_id,
            diks,
            valid_until: request
                .valid_until
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty()),
        },
        None,
        Call::Login,
    )?;
    let started: MobileStarted = json(&answer, "the mobile login")?;
    Ok(Session {
        state: SessionState::PendingConfirmation,
        company_ids: diks.to_vec(),
        expires_at: started.expires_in.map(time::in_seconds),
        refresh_every_seconds: Some(PENDING_POLL_SECONDS),
        message: Some(format!(
            "Potwierdź logowanie użytkownika {user_id} w aplikacji mBank CompanyMobile (DIK {})",
            diks.join(", ")
        )),
        ..Session::active(started.login_id, user_id)
    })
}

/// `complete-session`: logs in with the signature of the challenge.
pub fn complete(session_id: &str, signature: ChallengeSignature) -> Result<Session> {
    let key = pending_key(session_id);
    let Some(pending) = storage::get::<PendingLogin>(&key)? else {
        return Err(Error::rejected(
            None,
            format!("no mBank login {session_id} waits for a signature"),
        ));
    };
    // The bank takes one attempt per challenge, failed or not.
    storage::delete(&key)?;
    let answer = Client::from_config().post(
        path::LOGIN,
        &LoginRequest {
            challenge_id: session_id,
            signature: BASE64.encode(&signature.signature),
        },
        None,
        Call::Login,
    )?;
    let bank: BankSession = json(&answer, "the login")?;
    if let Some(missing) = pending.diks.iter().find(|d| !bank.diks.contains(d)) {
        return Err(Error::protocol(format!(
            "mBank opened a session without DIK {missing}"
        )));
    }
    let certificate =
        (!signature.certificate.is_empty()).then(|| BASE64.encode(&signature.certificate));
    active(session_id, bank, certificate)
}

fn secret_of(session: &SessionContext) -> Result<Option<SessionSecret>> {
    session
        .secret
        .as_deref()
        .map(|s| {
            serde_json::from_str::<SessionSecret>(s).map_err(|e| {
                Error::session_required(format!("the session's secret is unreadable: {e}"))
            })
        })
        .transpose()
}

/// The session the host chose for this call, required.
pub fn current() -> Result<(SessionContext, SessionSecret)> {
    let Some(session) = config::invocation().session else {
        return Err(Error::session_required(
            "no mBank CompanyNet session is active: a user must open one (qualified signature or mobile token), or the company's default authorizing user must have one",
        ));
    };
    let secret = secret_of(&session)?
        .ok_or_else(|| Error::session_required("the session holds no mBank token"))?;
    Ok((session, secret))
}

/// Whether `dik` is among the session's DIKs; the refusal names both.
pub fn check_dik(session_diks: &[String], user: &str, dik: &str) -> Result<()> {
    if session_diks.iter().any(|d| d == dik) {
        return Ok(());
    }
    Err(Error::session_required(format!(
        "the mBank session of {user} covers DIK {}, not DIK {dik} this call acts for: open a session that covers it",
        session_diks.join(", ")
    )))
}

/// The session for work of the company's DIK, refused before it reaches
/// the bank when the session does not cover it.
pub fn for_company() -> Result<(SessionSecret, String)> {
    let dik = config::require_setting("dik")?.trim().to_owned();
    covering(dik)
}

/// The session for work on `account`, under the account's DIK
/// ([`account_dik`]) or else the company's.
pub fn for_account(account: &str) -> Result<(SessionSecret, String)> {
    let listed = config::setting("account-diks").unwrap_or_default();
    match account_dik(&listed, account)? {
        Some(dik) => covering(dik),
        None => for_company(),
    }
}

/// The session, once it covers `dik`.
pub fn covering(dik: String) -> Result<(SessionSecret, String)> {
    let (session, secret) = current()?;
    check_dik(&session.company_ids, &session.bank_user_id, &dik)?;
    Ok((secret, dik))
}

/// The DIK of `account` in the `account-diks` setting ("[mBank] DIK
/// rachunku"): `account=DIK` pairs separated by `;` or new lines, an
/// account written as IBAN or NRB, with or without spaces. A company whose
/// accounts sit under several DIKs (a group's companies in one ERP
/// company) names them there; an account not listed uses `dik`.
pub fn account_dik(listed: &str, account: &str) -> Result<Option<String>> {
    let wanted = crate::statement::nrb(account);
    for pair in listed
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((number, dik)) = pair.split_once('=') else {
            return Err(Error::invalid_input(format!(
                "account-diks: `{pair}` is not `account=DIK`"
            )));
        };
        let dik = dik.trim();
        if dik.is_empty() || !dik.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid_input(format!(
                "account-diks: `{dik}` is not an mBank DIK (letters and digits)"
            )));
        }
        if crate::statement::nrb(number) == wanted {
            return Ok(Some(dik.to_owned()));
        }
    }
    Ok(None)
}

/// `refresh-session`: polls a mobile login still waiting for the app, or
/// keeps an active session alive.
pub fn refresh(session_id: &str) -> Result<Session> {
    let session = config::invocation().session;
    let secret = match &session {
        Some(s) if s.id == session_id => secret_of(s)?,
        Some(s) => {
            return Err(Error::invalid_input(format!(
                "asked for session {session_id}, the host passed {}",
                s.id
            )));
        }
        None => None,
    };
    match secret {
        Some(secret) => keepalive(session_id, &secret),
        None => poll_mobile(session_id, session.as_ref()),
    }
}

fn keepalive(session_id: &str, secret: &SessionSecret) -> Result<Session> {
    let answer = Client::from_config().post(
        path::KEEPALIVE,
        &serde_json::json!({}),
        Some(&Auth {
            token: &secret.token,
            dik: None,
        }),
        Call::Session,
    )?;
    let bank: BankSession = json(&answer, "the keepalive")?;
    Ok(Session {
        company_ids: bank.diks,
        expires_at: Some(bank.valid_until),
        refresh_every_seconds: Some(refresh_every(&bank.kind)),
        // The token is unchanged: keep the sealed secret.
        secret: None,
        ..Session::active(session_id, bank.user_id)
    })
}

fn poll_mobile(session_id: &str, context: Option<&SessionContext>) -> Result<Session> {
    let answer = Client::from_config().get(
        &format!("{}/{session_id}", path::MOBILE),
        &[],
        None,
        Call::Login,
    );
    let answer = match answer {
        Ok(answer) => answer,
        // The bank forgot the login: it is over.
        Err(Error::Rejected(r)) if r.code.as_deref() == Some("UNKNOWN_LOGIN") => {
            return Ok(ended(
                session_id,
                context,
                SessionState::Expired,
                &r.message,
            ));
        }
        Err(e) => return Err(e),
    };
    let status: MobileStatus = json(&answer, "the mobile login's status")?;
    match (mobile_state(&status.status)?, status.session) {
        (SessionState::Active, Some(bank)) => active(session_id, bank, None),
        (SessionState::Active, None) => Err(Error::protocol(
            "mBank confirmed the mobile login but gave no session",
        )),
        (SessionState::PendingConfirmation, _) => Ok(Session {
            state: SessionState::PendingConfirmation,
            refresh_every_seconds: Some(PENDING_POLL_SECONDS),
            company_ids: context.map(|c| c.company_ids.clone()).unwrap_or_default(),
            message: Some(
                "Oczekiwanie na potwierdzenie w aplikacji mBank CompanyMobile".to_owned(),
            ),
            ..Session::active(session_id, user_of(context))
        }),
        (SessionState::Rejected, _) => Ok(ended(
            session_id,
            context,
            SessionState::Rejected,
            "the user rejected the login in mBank CompanyMobile",
        )),
        (state, _) => Ok(ended(
            session_id,
            context,
            state,
            "the login was not confirmed in mBank CompanyMobile in time",
        )),
    }
}

fn user_of(context: Option<&SessionContext>) -> String {
    context.map(|c| c.bank_user_id.clone()).unwrap_or_default()
}

fn ended(
    session_id: &str,
    context: Option<&SessionContext>,
    state: SessionState,
    message: &str,
) -> Session {
    Session {
        state,
        company_ids: context.map(|c| c.company_ids.clone()).unwrap_or_default(),
        message: Some(message.to_owned()),
        ..Session::active(session_id, user_of(context))
    }
}

/// `close-session`: logs out; a session the bank already ended is closed.
pub fn close(session_id: &str) -> Result<()> {
    if storage::delete(&pending_key(session_id))? {
        return Ok(());
    }
    let Some(session) = config::invocation().session.filter(|s| s.id == session_id) else {
        // A mobile login never confirmed holds no token: nothing to end.
        return Ok(());
    };
    let Some(secret) = secret_of(&session)? else {
        return Ok(());
    };
    match Client::from_config().post(
        path::LOGOUT,
        &serde_json::json!({}),
        Some(&Auth {
            token: &secret.token,
            dik: None,
        }),
        Call::Session,
    ) {
        Ok(_) | Err(Error::SessionRequired(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_may_name_its_own_dik() {
        let listed = "PL61 1090 1014 0000 0712 1981 2874 = 10067890;\n\
                      10105000997603123456789123=10012345\n";
        let dik = |account: &str| account_dik(listed, account).expect("parsed");
        assert_eq!(
            dik("61109010140000071219812874").as_deref(),
            Some("10067890")
        );
        assert_eq!(
            dik("PL10105000997603123456789123").as_deref(),
            Some("10012345")
        );
        assert_eq!(dik("PL70105010121000002312345678"), None, "unlisted");
        assert_eq!(
            account_dik("", "PL61109010140000071219812874").ok(),
            Some(None)
        );
        assert!(matches!(
            account_dik("PL61109010140000071219812874", "x"),
            Err(Error::InvalidInput(m)) if m.contains("not `account=DIK`")
        ));
        assert!(matches!(
            account_dik("PL61109010140000071219812874=10-1", "x"),
            Err(Error::InvalidInput(m)) if m.contains("not an mBank DIK")
        ));
    }

    #[test]
    fn diks_come_from_the_request_else_the_company() {
        let asked = vec![
            " 10012345".to_owned(),
            "10067890".to_owned(),
            "10012345".to_owned(),
        ];
        assert_eq!(
            requested_diks(&asked, Some("999")).expect("diks"),
            ["10012345", "10067890"]
        );
        assert_eq!(
            requested_diks(&[], Some(" 10012345 ")).expect("own"),
            ["10012345"]
        );
        let none = requested_diks(&[String::new()], None).expect_err("none");
        assert!(
            matches!(&none, Error::InvalidInput(m) if m.contains("mBankDIK")),
            "{none:?}"
        );
        assert!(requested_diks(&["10012345;x".to_owned()], None).is_err());
    }

    #[test]
    fn a_dik_outside_the_session_is_refused_by_name() {
        let diks = vec!["10012345".to_owned(), "10067890".to_owned()];
        assert!(check_dik(&diks, "JKOWALSKI", "10067890").is_ok());
        let refused = check_dik(&diks, "JKOWALSKI", "10099999").expect_err("outside");
        assert!(
            matches!(&refused, Error::SessionRequired(m) if m.contains("10099999") && m.contains("10012345, 10067890")),
            "{refused:?}"
        );
    }

    #[test]
    fn mobile_statuses_map_to_session_states() {
        assert_eq!(
            mobile_state("PENDING").expect("ok"),
            SessionState::PendingConfirmation
        );
        assert_eq!(mobile_state("CONFIRMED").expect("ok"), SessionState::Active);
        assert_eq!(
            mobile_state("REJECTED").expect("ok"),
            SessionState::Rejected
        );
        assert_eq!(mobile_state("EXPIRED").expect("ok"), SessionState::Expired);
        assert!(matches!(mobile_state("LOST"), Err(Error::Protocol(_))));
        assert_eq!(refresh_every("MOBILE"), MOBILE_REFRESH_SECONDS);
        assert!(u64::from(MOBILE_REFRESH_SECONDS) * 3 < 1800);
        assert_eq!(refresh_every("SIGNATURE"), SIGNATURE_REFRESH_SECONDS);
    }

    #[test]
    fn the_secret_round_trips() {
        let secret = SessionSecret {
            token: "ab".repeat(32),
            certificate: Some("MIIB".to_owned()),
            kind: "SIGNATURE".to_owned(),
        };
        let text = serde_json::to_string(&secret).expect("json");
        assert_eq!(
            serde_json::from_str::<SessionSecret>(&text).expect("back"),
            secret
        );
    }

    #[test]
    fn a_confirmed_poll_carries_the_session() {
        let body = r#"{"loginId":"ab","status":"CONFIRMED","expiresAt":"2026-12-01T10:02:00Z",
            "token":"cd","kind":"MOBILE","userId":"JKOWALSKI","diks":["10012345"],
            "validUntil":"2027-03-01T10:00:00Z","idleTimeout":1800}"#;
        let status: MobileStatus = serde_json::from_str(body).expect("json");
        assert_eq!(status.status, "CONFIRMED");
        let session = status.session.expect("session");
        assert_eq!(session.token, "cd");
        assert_eq!(session.diks, ["10012345"]);
        let pending: MobileStatus =
            serde_json::from_str(r#"{"loginId":"ab","status":"PENDING","expiresAt":"x"}"#)
                .expect("json");
        assert!(pending.session.is_none());
    }
}
