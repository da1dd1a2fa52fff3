//! This host's share key: an origin seals a shared session's token to its
//! public half (RFC 9180 HPKE, base mode: X25519, HKDF-SHA256,
//! ChaCha20-Poly1305), so the token never lies in the target database in
//! clear and only this host, whose vault holds the private half, opens it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::{OsRng, TryRngCore};
use sha2::{Digest, Sha256};
use sqlx::Row;
use zeroize::Zeroizing;

use super::ShareError;
use crate::db::{Database, now_millis};
use crate::vault::{EntryId, VaultStore};

type Suite = X25519HkdfSha256;
type PublicKey = <Suite as Kem>::PublicKey;
type PrivateKey = <Suite as Kem>::PrivateKey;

/// Binds a sealed token to what it was sealed for.
const INFO: &[u8] = b"h2h shared bank session v1";

/// A host's public share key as its database publishes it.
#[derive(Debug, Clone)]
pub(super) struct Published {
    pub id: String,
    pub public_key: String,
}

/// Makes sure this host publishes a share key; creates the first one.
/// Two processes starting together may both create one: each is kept, and
/// origins seal to the newest, which every process can open.
pub(crate) async fn ensure(db: &Database, vault: &VaultStore) -> Result<(), ShareError> {
    let existing = sqlx::query("SELECT id FROM session_share_keys LIMIT 1")
        .fetch_optional(db.pool())
        .await?;
    if existing.is_some() {
        return Ok(());
    }
    let mut ikm = Zeroizing::new([0u8; 32]);
    OsRng
        .try_fill_bytes(ikm.as_mut())
        .map_err(|e| ShareError::Crypto(format!("no randomness for a share key: {e}")))?;
    let (private, public) = Suite::derive_keypair(ikm.as_ref());
    let public = public.to_bytes();
    let id = hex::encode(&Sha256::digest(public.as_slice())[..8]);
    let private = Zeroizing::new(private.to_bytes().to_vec());
    vault.put(&EntryId::share_key(&id), &private, "h2h").await?;
    sqlx::query("INSERT INTO session_share_keys (id, public_key, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(STANDARD.encode(public.as_slice()))
        .bind(now_millis())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// What a sealed token is bound to: the plugin, company and user of the
/// row it lies in, so it cannot be moved to another user's row.
pub(super) fn binding(plugin: &str, company: &str, user: &str) -> Vec<u8> {
    format!("{plugin}\0{company}\0{user}").into_bytes()
}

/// Seals `secret` to `to`: `key id.encapsulated key.ciphertext`, base64.
pub(super) fn seal(to: &Published, secret: &[u8], bound: &[u8]) -> Result<String, ShareError> {
    let bytes = STANDARD
        .decode(&to.public_key)
        .map_err(|e| ShareError::Crypto(format!("the target's share key is not base64: {e}")))?;
    let public = PublicKey::from_bytes(&bytes)
        .map_err(|e| ShareError::Crypto(format!("the target's share key is invalid: {e}")))?;
    let mut rng = OsRng.unwrap_err();
    let (encapsulated, ciphertext) =
        hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Suite, _>(
            &OpModeS::Base,
            &public,
            INFO,
            secret,
            bound,
            &mut rng,
        )
        .map_err(|e| ShareError::Crypto(format!("sealing to the target's share key: {e}")))?;
    Ok(format!(
        "{}.{}.{}",
        to.id,
        STANDARD.encode(encapsulated.to_bytes().as_slice()),
        STANDARD.encode(ciphertext)
    ))
}

/// Opens a token an origin sealed to this host.
pub(super) async fn open(
    vault: &VaultStore,
    sealed: &str,
    bound: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ShareError> {
    let corrupt = |what: &str| ShareError::Crypto(format!("the shared session's token: {what}"));
    let mut parts = sealed.splitn(3, '.');
    let (Some(id), Some(encapsulated), Some(ciphertext)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(corrupt("not `key.encapsulated.ciphertext`"));
    };
    let private = vault.get(&EntryId::share_key(id)).await?.ok_or_else(|| {
        corrupt(&format!(
            "sealed to share key {id}, which this host does not hold"
        ))
    })?;
    let private =
        PrivateKey::from_bytes(&private).map_err(|_| corrupt("the share key is invalid"))?;
    let encapsulated = STANDARD
        .decode(encapsulated)
        .ok()
        .and_then(|b| <Suite as Kem>::EncappedKey::from_bytes(&b).ok())
        .ok_or_else(|| corrupt("bad encapsulated key"))?;
    let ciphertext = STANDARD
        .decode(ciphertext)
        .map_err(|_| corrupt("bad ciphertext"))?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Suite>(
        &OpModeR::Base,
        &private,
        &encapsulated,
        INFO,
        &ciphertext,
        bound,
    )
    .map(Zeroizing::new)
    .map_err(|_| corrupt("it does not open (tampered, or sealed for another row)"))
}

/// The newest key a host publishes, read over `row`'s columns.
pub(super) fn published(row: &sqlx::postgres::PgRow) -> Result<Published, sqlx::Error> {
    Ok(Published {
        id: row.try_get("id")?,
        public_key: row.try_get("public_key")?,
    })
}
