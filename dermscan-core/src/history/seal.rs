//! Encryption at rest: XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`) with a 256-bit key
//! the host keeps in the iOS Keychain or Android Keystore.
//!
//! A sealed value is `b"DSS1" || nonce (24 bytes, random) || ciphertext+tag`. The associated
//! data names what the value is (`photo`, `mask`, `health`, ...) so one sealed value cannot
//! be passed off as another. The store keeps a sealed check value so a wrong key is found
//! before anything is read or written.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::HistoryError;

const MAGIC: &[u8; 4] = b"DSS1";
const NONCE_LEN: usize = 24;

/// A 256-bit store key. Its bytes are wiped from memory when it is dropped and never printed.
///
/// ```
/// use dermscan_core::history::StoreKey;
/// let key = StoreKey::from_bytes([7; 32]);
/// assert_eq!(format!("{key:?}"), "StoreKey(..)");
/// assert!(StoreKey::from_slice(&[1, 2, 3]).is_err());
/// ```
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HistoryError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| HistoryError::InvalidArgument(format!("a store key must be 32 bytes (256 bits), got {}", bytes.len())))?;
        Ok(Self::from_bytes(array))
    }

    /// A fresh random key from the operating system's generator (for tests and first use;
    /// the host must keep it in the platform key store).
    pub fn generate() -> Self {
        Self::from_bytes(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// Seals and opens values with one key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(key: &StoreKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new(Key::from_slice(key.0.as_slice())) }
    }

    /// Encrypts `plain`, bound to `purpose`.
    pub(crate) fn seal(&self, purpose: &str, plain: &[u8]) -> Result<Vec<u8>, HistoryError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plain, aad: purpose.as_bytes() })
            .map_err(|_| HistoryError::InvalidArgument(format!("{purpose} is too large to seal")))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts a value sealed for `purpose`; `None` if the key or the purpose is wrong or
    /// the value was altered.
    pub(crate) fn open(&self, purpose: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let rest = sealed.strip_prefix(MAGIC.as_slice())?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: purpose.as_bytes() }).ok()
    }
}

/// How values are stored: as they are, or sealed with a key.
pub(crate) enum Codec {
    Plain,
    Sealed(Sealer),
}

impl Codec {
    pub(crate) fn from_key(key: Option<&StoreKey>) -> Self {
        key.map_or(Self::Plain, |k| Self::Sealed(Sealer::new(k)))
    }

    pub(crate) fn is_sealed(&self) -> bool {
        matches!(self, Self::Sealed(_))
    }

    pub(crate) fn encode(&self, purpose: &str, plain: &[u8]) -> Result<Vec<u8>, HistoryError> {
        match self {
            Self::Plain => Ok(plain.to_vec()),
            Self::Sealed(s) => s.seal(purpose, plain),
        }
    }

    /// Decodes a stored value. A value that does not open means damage (the key itself was
    /// checked when the store was opened).
    pub(crate) fn decode(&self, purpose: &str, stored: &[u8], what: &std::path::Path) -> Result<Vec<u8>, HistoryError> {
        match self {
            Self::Plain => Ok(stored.to_vec()),
            Self::Sealed(s) => s.open(purpose, stored).ok_or_else(|| HistoryError::Corrupt {
                path: what.to_path_buf(),
                detail: format!("sealed {purpose} does not open with the store key"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_tamper() {
        let s = Sealer::new(&StoreKey::from_bytes([1; 32]));
        let sealed = s.seal("photo", b"hello").expect("seal");
        assert_eq!(s.open("photo", &sealed).as_deref(), Some(&b"hello"[..]));
        assert!(s.open("mask", &sealed).is_none(), "purpose is bound");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(s.open("photo", &bad).is_none(), "tampering is found");
        assert!(Sealer::new(&StoreKey::from_bytes([2; 32])).open("photo", &sealed).is_none());
        assert!(s.open("photo", b"DSS1short").is_none());
        assert_ne!(s.seal("photo", b"hello").expect("seal"), sealed, "fresh nonce each time");
    }
}
