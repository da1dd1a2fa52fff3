//! HS256 JSON Web Tokens, the way a Django REST "simple JWT" service
//! issues them at `token/` and `token/refresh` (assumed): an access token
//! (300 s of simulated clock by default) and a refresh token (one day).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::state::World;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) token_type: String,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) jti: String,
    pub(crate) user_id: String,
    /// The generation it was issued in; `expire_jwts` moves it on.
    pub(crate) generation: u64,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// Not a token we signed, or the wrong kind.
    Invalid,
    /// Ours, but past its `exp` (or expired by the fault switch).
    Expired,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

pub(crate) fn issue(world: &World, user: &str, token_type: &str) -> String {
    let now = world.now().timestamp();
    let (life, generation) = if token_type == "access" {
        (world.config.access_secs, world.access_generation)
    } else {
        (world.config.refresh_secs, world.refresh_generation)
    };
    let claims = Claims {
        token_type: token_type.into(),
        exp: now + life,
        iat: now,
        jti: crate::random_hex(16),
        user_id: user.into(),
        generation,
    };
    let header = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = B64URL.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{header}.{body}");
    let mut m = mac(&world.jwt_secret);
    m.update(signing_input.as_bytes());
    let sig = B64URL.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

pub(crate) fn check(world: &World, token: &str, token_type: &str) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(b), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    let sig = B64URL.decode(s).map_err(|_| TokenError::Invalid)?;
    let mut m = mac(&world.jwt_secret);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(b.as_bytes());
    m.verify_slice(&sig).map_err(|_| TokenError::Invalid)?;
    let claims: Claims = B64URL
        .decode(b)
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .ok_or(TokenError::Invalid)?;
    if claims.token_type != token_type || !world.accounts.contains_key(&claims.user_id) {
        return Err(TokenError::Invalid);
    }
    let generation = if token_type == "access" {
        world.access_generation
    } else {
        world.refresh_generation
    };
    if claims.generation < generation || world.now().timestamp() >= claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}
