//! Which tokens one plugin may sign with: the admin's grants of tokens to
//! a plugin whose manifest asks for signing. The default denies everything.

use std::fmt;
use std::sync::Arc;

use crate::pkcs11::TokenService;

/// What one plugin may sign with. Cheap to clone.
#[derive(Clone, Default)]
pub struct SigningGrant {
    service: Option<Arc<TokenService>>,
    tokens: Vec<String>,
}

impl fmt::Debug for SigningGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningGrant")
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl SigningGrant {
    /// Signing with the registered tokens `tokens` (by name) of `service`.
    pub fn new(service: Arc<TokenService>, mut tokens: Vec<String>) -> Self {
        tokens.sort();
        tokens.dedup();
        Self {
            service: Some(service),
            tokens,
        }
    }

    /// The granted token names, sorted.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The service, if anything at all is granted.
    pub(super) fn service(&self) -> Option<&Arc<TokenService>> {
        self.service.as_ref().filter(|_| !self.tokens.is_empty())
    }

    /// Whether `token` is granted.
    pub(super) fn allows(&self, token: &str) -> bool {
        self.tokens.iter().any(|t| t == token)
    }
}
