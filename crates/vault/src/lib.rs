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
use std::sync::{Arc, RwLock};
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
        Ok(Self {
            id,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
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

/// Where a key ring's keys come from, read again by [`KeyRing::reload`]: key files can change
/// under a running server (a rotation, a mounted secret), environment variables cannot.
pub type KeySource = Box<dyn Fn() -> Result<Vec<MasterKey>, String> + Send + Sync>;

/// The keys Switchyard can open with; the first one seals.
pub struct KeyRing {
    keys: RwLock<Arc<Vec<MasterKey>>>,
    source: Option<KeySource>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.current())
            .finish()
    }
}

impl KeyRing {
    /// `keys[0]` is the active key; the others only open.
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, VaultError> {
        if keys.is_empty() {
            return Err(VaultError::BadKey);
        }
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            source: None,
        })
    }

    /// A key ring that reads its keys from `source`, now and on every [`KeyRing::reload`].
    pub fn with_source(source: KeySource) -> Result<Self, String> {
        let keys = source()?;
        let mut ring = Self::new(keys).map_err(|e| e.to_string())?;
        ring.source = Some(source);
        Ok(ring)
    }

    fn current(&self) -> Arc<Vec<MasterKey>> {
        self.keys.read().expect("key ring lock poisoned").clone()
    }

    /// Reads the keys again from the source. Returns the new active key id when it changed.
    /// Keys already known stay known: a value sealed a moment ago must keep opening.
    pub fn reload(&self) -> Result<Option<String>, String> {
        let Some(source) = &self.source else {
            return Ok(None);
        };
        let mut fresh = source()?;
        if fresh.is_empty() {
            return Err("no master key".into());
        }
        let old = self.current();
        let changed = fresh[0].id != old[0].id;
        let missing: Vec<&MasterKey> = old
            .iter()
            .filter(|k| !fresh.iter().any(|f| f.id == k.id))
            .collect();
        if !changed && missing.is_empty() && fresh.len() == old.len() {
            return Ok(None);
        }
        for k in missing {
            fresh.push(MasterKey {
                id: k.id.clone(),
                cipher: k.cipher.clone(),
            });
        }
        let active = fresh[0].id.clone();
        *self.keys.write().expect("key ring lock poisoned") = Arc::new(fresh);
        Ok(changed.then_some(active))
    }

    pub fn active_key_id(&self) -> String {
        self.current()[0].id.clone()
    }

    pub fn has_key(&self, id: &str) -> bool {
        self.current().iter().any(|k| k.id == id)
    }

    /// The ids of every key in the ring, the active one first.
    pub fn key_ids(&self) -> Vec<String> {
        self.current().iter().map(|k| k.id.clone()).collect()
    }

    /// Seals `plaintext` with the active key. `aad` binds the value to its row (for example the
    /// credential id), so a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> String {
        let keys = self.current();
        let key = &keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = key
            .cipher
            .encrypt(
                &nonce,
                aes_gcm::aead::Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
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
        let mut keys = self.current();
        if !keys.iter().any(|k| k.id == key_id) && self.source.is_some() {
            // Sealed by a key this process has not seen yet (another node rotated): look again.
            let _ = self.reload();
            keys = self.current();
        }
        let key = keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_owned()))?;
        let buf = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| VaultError::Malformed)?;
        if buf.len() < 12 {
            return Err(VaultError::Malformed);
        }
        let (nonce, ct) = buf.split_at(12);
        key.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                aes_gcm::aead::Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Open)
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
        assert_eq!(KeyRing::key_id_of(&s), Some(r.active_key_id().as_str()));
    }

    #[test]
    fn old_keys_still_open_after_a_new_key_is_added() {
        let old = MasterKey::generate_text();
        let r1 = KeyRing::new(vec![MasterKey::parse(&old).unwrap()]).unwrap();
        let s = r1.seal(b"x", "a");
        let r2 = KeyRing::new(vec![
            MasterKey::parse(&MasterKey::generate_text()).unwrap(),
            MasterKey::parse(&old).unwrap(),
        ])
        .unwrap();
        assert_eq!(&r2.open(&s, "a").unwrap()[..], b"x");
        assert_ne!(
            KeyRing::key_id_of(&r2.seal(b"x", "a")),
            KeyRing::key_id_of(&s)
        );
        let r3 = ring();
        assert!(matches!(r3.open(&s, "a"), Err(VaultError::UnknownKey(_))));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(MasterKey::parse("short").is_err());
    }
}
