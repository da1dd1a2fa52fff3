//! Opening a bank session: the connector's `open-session`, then, for a
//! signature login, the challenge signed by the host (PKCS#11, with the PIN
//! the user gives now) or at the user's workstation (`complete`).

use secrecy::SecretString;

use super::{BankSession, BankSessions, SessionError, store};
use crate::admin::Actor;
use crate::connectors::Connectors;
use crate::pkcs11::KeyId;
use crate::runtime::model::bank::{ChallengeSignature, LoginMethod, SessionRequest, SessionState};

/// The host signs the challenge with a key on a PKCS#11 token granted to
/// the plugin. The PIN never enters the plugin.
pub struct HostSigning {
    /// The key, `token:hex` as `signing.list-certificates` names it.
    pub key: String,
    /// The token's PIN, given now; none to use the signing session open on
    /// the token (or the PIN saved for it).
    pub pin: Option<SecretString>,
    /// Keep the PIN sealed in the vault, so the bot can reopen a session
    /// the bank dropped.
    pub save_pin: bool,
}

/// What an ERP user asks for when opening a session.
pub struct OpenRequest {
    /// The connector.
    pub plugin: String,
    /// The company the session is for.
    pub company: String,
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// How the user logs in.
    pub method: LoginMethod,
    /// The company identifiers it should cover; empty for the company's
    /// own (from its settings).
    pub company_ids: Vec<String>,
    /// When it should end, if the bank lets the user choose (RFC 3339).
    pub valid_until: Option<String>,
    /// Keep it alive with the host's bot.
    pub refresh_by_bot: bool,
    /// The host signs the challenge; none when the workstation signs.
    pub host_signing: Option<HostSigning>,
    /// For a workstation signature: the signer's certificate, DER.
    pub certificate: Option<Vec<u8>>,
}

impl BankSessions {
    /// Opens a session for `user`: `active` at once, `pending-confirmation`
    /// (the bot polls it), or `awaiting-signature` until the workstation's
    /// signature comes (`complete`). With host signing the host signs the
    /// challenge right away.
    pub async fn open(
        &self,
        connectors: &Connectors,
        user: &str,
        request: OpenRequest,
    ) -> Result<BankSession, SessionError> {
        let target = BankSession::pending(&request, user);
        let opened = self.open_once(connectors, user, &request).await;
        let shown = opened.as_ref().unwrap_or(&target);
        self.audit(&Actor::erp(user), "bank-session.open", shown, &opened)
            .await;
        if let Ok(session) = &opened {
            self.supersede(connectors, session).await;
        }
        opened
    }

    async fn open_once(
        &self,
        connectors: &Connectors,
        user: &str,
        request: &OpenRequest,
    ) -> Result<BankSession, SessionError> {
        if request.bank_user_id.trim().is_empty() {
            return Err(SessionError::InvalidInput(
                "bank_user_id, the user's identifier at the bank, is required".to_owned(),
            ));
        }
        let signing = match &request.host_signing {
            Some(h) => Some((
                KeyId::parse(&h.key).ok_or_else(|| {
                    SessionError::InvalidInput(format!(
                        "key `{}` is not a key id like `token:0a1b` (see the token's certificates)",
                        h.key
                    ))
                })?,
                h,
            )),
            None => None,
        };
        if request.method != LoginMethod::Signature && signing.is_some() {
            return Err(SessionError::InvalidInput(
                "`sign_with` applies to a signature login only".to_owned(),
            ));
        }
        if request.method == LoginMethod::Signature
            && signing.is_none()
            && request.certificate.is_none()
        {
            return Err(SessionError::InvalidInput(
                "a signature login needs `sign_with` (the host signs with a token's key) or \
                 `certificate` (the workstation signs)"
                    .to_owned(),
            ));
        }
        let certificate = match &signing {
            Some((key, host)) => {
                let granted = self.tokens.granted_tokens(&request.plugin).await?;
                if !granted.contains(&key.token) {
                    return Err(SessionError::NotGranted {
                        token: key.token.clone(),
                        plugin: request.plugin.clone(),
                    });
                }
                if let Some(pin) = &host.pin {
                    self.tokens
                        .open_session(
                            &request.company,
                            &key.token,
                            pin.clone(),
                            host.save_pin,
                            user,
                        )
                        .await?;
                }
                Some(self.certificate_of(&request.company, key).await?)
            }
            None => request.certificate.clone(),
        };
        let loaded = connectors.get(&request.plugin).await?;
        let ctx = connectors
            .context(&loaded, Some(&request.company), Some(user))
            .await?;
        let wire = SessionRequest {
            bank_user_id: request.bank_user_id.clone(),
            method: request.method,
            company_ids: request.company_ids.clone(),
            valid_until: request.valid_until.clone(),
            certificate: certificate.clone(),
            signing_key: request.host_signing.as_ref().map(|h| h.key.clone()),
        };
        let session = loaded.plugin.open_session(ctx, &wire).await?;
        let row = store::NewRow {
            plugin: &request.plugin,
            company: &request.company,
            bank_user_id: &request.bank_user_id,
            method: request.method,
            refresh_by_bot: request.refresh_by_bot,
            signing_key: request.host_signing.as_ref().map(|h| h.key.as_str()),
            opened_by: user,
        };
        let opened = store::insert(&self.db, &self.vault, &row, &session).await?;
        match (&signing, certificate, opened.state) {
            (Some((key, _)), Some(certificate), SessionState::AwaitingSignature) => {
                self.sign_and_complete(connectors, user, &opened, key, certificate)
                    .await
            }
            _ => Ok(opened),
        }
    }

    /// Completes a session `awaiting-signature` with the signature of its
    /// challenge made at the workstation.
    pub async fn complete(
        &self,
        connectors: &Connectors,
        user: &str,
        id: i64,
        signature: ChallengeSignature,
    ) -> Result<BankSession, SessionError> {
        let current = self.get(id).await?;
        let actor = Actor::erp(user);
        let done = self
            .complete_with(connectors, user, &current, signature)
            .await;
        self.audit(&actor, "bank-session.complete", &current, &done)
            .await;
        if let Ok(session) = &done {
            self.supersede(connectors, session).await;
        }
        done
    }

    async fn sign_and_complete(
        &self,
        connectors: &Connectors,
        user: &str,
        current: &BankSession,
        key: &KeyId,
        certificate: Vec<u8>,
    ) -> Result<BankSession, SessionError> {
        let challenge = current
            .challenge
            .as_ref()
            .ok_or_else(|| SessionError::BadAnswer {
                plugin: current.plugin.clone(),
                reason: "awaiting-signature without a challenge".to_owned(),
            })
            .and_then(store::challenge_from)?;
        let signature = self
            .tokens
            .sign(&current.company, key, challenge.mechanism, challenge.data)
            .await?;
        let signature = ChallengeSignature {
            signature,
            certificate,
        };
        self.complete_with(connectors, user, current, signature)
            .await
    }

    async fn complete_with(
        &self,
        connectors: &Connectors,
        user: &str,
        current: &BankSession,
        signature: ChallengeSignature,
    ) -> Result<BankSession, SessionError> {
        if current.state != SessionState::AwaitingSignature {
            return Err(SessionError::State {
                id: current.id,
                state: current.state_name(),
                why: "only a session awaiting a signature can be completed",
            });
        }
        let (loaded, ctx) = self.context_for(connectors, current, Some(user)).await?;
        let handle = &current.connector_session_id;
        match loaded
            .plugin
            .complete_session(ctx, handle, &signature)
            .await
        {
            Ok(session) => store::apply(&self.db, &self.vault, current, &session, user).await,
            Err(e) => {
                store::record_failure(&self.db, current.id, &e.to_string()).await?;
                Err(e.into())
            }
        }
    }

    /// The certificate (DER) of `key` on its token, for `company`.
    async fn certificate_of(&self, company: &str, key: &KeyId) -> Result<Vec<u8>, SessionError> {
        let wanted = key.to_string();
        self.tokens
            .certificates(company, &key.token)
            .await?
            .into_iter()
            .find(|c| c.key_id == wanted)
            .map(|c| c.der)
            .ok_or_else(|| {
                SessionError::InvalidInput(format!(
                    "no certificate with key `{wanted}` on token `{}`",
                    key.token
                ))
            })
    }
}

impl BankSession {
    /// What the audit log names before the session exists.
    fn pending(request: &OpenRequest, user: &str) -> Self {
        BankSession {
            id: 0,
            plugin: request.plugin.clone(),
            company: request.company.clone(),
            bank_user_id: request.bank_user_id.clone(),
            connector_session_id: String::new(),
            login_method: request.method,
            state: SessionState::Closed,
            company_ids: request.company_ids.clone(),
            expires_at: None,
            refresh_every_seconds: None,
            refresh_by_bot: request.refresh_by_bot,
            challenge: None,
            message: None,
            signing_key: None,
            opened_by: user.to_owned(),
            opened_at: 0,
            updated_at: 0,
            last_refresh_at: None,
            shared_from: None,
            failures: 0,
            last_error: None,
        }
    }
}
