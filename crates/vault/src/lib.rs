//! The vault: every secret Switchyard stores is sealed with AES-256-GCM under a key of the key ring.
//! A sealed value names the key that sealed it (`v1.<key id>.<base64 nonce+ciphertext>`), so old
//! keys keep opening old rows while new rows are sealed with the active key.
#![forbid(unsafe_code)]

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the master key must be 32 bytes, given as 64 hex digits or base64")]
    BadKey,
    #[error("no key in the key ring has id {0}")]
    UnknownKey(String),
    #[error("a sealed value is malformed")]
    Malformed,
    #[error("a sealed value could not be opened: wrong key or tampered data")]
    Open,
}

/// One master key and its id (the first 8 hex digits of the SHA-256 of the key).
pub struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// Parses a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        let bytes = Zeroizing::new(
            hex::decode(text)
                .ok()
                .filter(|b| b.len() == 32)
                .or_else(|| STANDARD.decode(text).ok())
                .or_else(|| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or(VaultError::BadKey)?,
        );
        if bytes.len() != 32 {
            return Err(VaultError::BadKey);
        }
        let id = hex::encode(&Sha256::digest(&bytes[..])[..4]);
        Ok(Self { id, cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)) })
    }

    /// A new random key, as hex text (what [`MasterKey::parse`] reads).
    pub fn generate_text() -> Zeroizing<String> {
        let key = Aes256Gcm::generate_key(OsRng);
        Zeroizing::new(hex::encode(key))
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys Switchyard can open with; the first one seals.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

impl KeyRing {
    /// `keys[0]` is the active key; the others only open.
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, VaultError> {
        if keys.is_empty() {
            return Err(VaultError::BadKey);
        }
        Ok(Self { keys })
    }

    pub fn active_key_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn has_key(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// Seals `plaintext` with the active key. `aad` binds the value to its row (for example the
    /// credential id), so a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> String {
        let key = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = key
            .cipher
            .encrypt(&nonce, aes_gcm::aead::Payload { msg: plaintext, aad: aad.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut buf = nonce.to_vec();
        buf.extend_from_slice(&ct);
        format!("v1.{}.{}", key.id, URL_SAFE_NO_PAD.encode(buf))
    }

    /// The id of the key that sealed `sealed`.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        sealed.strip_prefix("v1.")?.split('.').next()
    }

    pub fn open(&self, sealed: &str, aad: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let rest = sealed.strip_prefix("v1.").ok_or(VaultError::Malformed)?;
        let (key_id, body) = rest.split_once('.').ok_or(VaultError::Malformed)?;
        let key = self.keys.iter().find(|k| k.id == key_id).ok_or_else(|| VaultError::UnknownKey(key_id.to_owned()))?;
        let buf = URL_SAFE_NO_PAD.decode(body).map_err(|_| VaultError::Malformed)?;
        if buf.len() < 12 {
            return Err(VaultError::Malformed);
        }
        let (nonce, ct) = buf.split_at(12);
        key.cipher.decrypt(Nonce::from_slice(nonce), aes_gcm::aead::Payload { msg: ct, aad: aad.as_bytes() }).map(Zeroizing::new).map_err(|_| VaultError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(vec![MasterKey::parse(&MasterKey::generate_text()).unwrap()]).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let r = ring();
        let s = r.seal(b"hunter2", "cred-1");
        assert!(!s.contains("hunter2"));
        assert_eq!(&r.open(&s, "cred-1").unwrap()[..], b"hunter2");
        assert!(matches!(r.open(&s, "cred-2"), Err(VaultError::Open)));
        assert_eq!(KeyRing::key_id_of(&s), Some(r.active_key_id()));
    }

    #[test]
    fn old_keys_still_open_after_a_new_key_is_added() {
        let old = MasterKey::generate_text();
        let r1 = KeyRing::new(vec![MasterKey::parse(&old).unwrap()]).unwrap();
        let s = r1.seal(b"x", "a");
        let r2 = KeyRing::new(vec![MasterKey::parse(&MasterKey::generate_text()).unwrap(), MasterKey::parse(&old).unwrap()]).unwrap();
        assert_eq!(&r2.open(&s, "a").unwrap()[..], b"x");
        assert_ne!(KeyRing::key_id_of(&r2.seal(b"x", "a")), KeyRing::key_id_of(&s));
        let r3 = ring();
        assert!(matches!(r3.open(&s, "a"), Err(VaultError::UnknownKey(_))));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(MasterKey::parse("short").is_err());
    }
}
