//! Secrets that must survive a round trip through a form (the review step, a form re-shown
//! with errors) without ever being written into a page: the page carries them sealed with a
//! key that lives only in this process's memory.
//!
//! A restart forgets the key, so a sealed value from before it no longer opens and the person
//! types the secret again; that is the price of never storing it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Default for Sealer {
    fn default() -> Self {
        Self::new()
    }
}

impl Sealer {
    pub fn new() -> Sealer {
        let bytes: [u8; 32] = rand::rng().random();
        let key = UnboundKey::new(&AES_256_GCM, &bytes).expect("a 32-byte key fits AES-256");
        Sealer {
            key: LessSafeKey::new(key),
        }
    }

    /// `purpose` binds the sealed value to its field, so one field's value cannot be replayed
    /// into another.
    pub fn seal(&self, purpose: &str, secret: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::rng().random();
        let mut data = secret.as_bytes().to_vec();
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(purpose.as_bytes()),
            &mut data,
        );
        if sealed.is_err() {
            // Only a message beyond AES-GCM's length limit fails; nothing a form sends.
            return String::new();
        }
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The secret, or `None` when the value was not sealed by this process for this purpose.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed.trim()).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_here_and_for_their_field() {
        let sealer = Sealer::new();
        let sealed = sealer.seal("admin_password", "Tr0ub4dor&3");
        assert!(!sealed.contains("Tr0ub4dor"));
        assert_eq!(
            sealer.open("admin_password", &sealed).as_deref(),
            Some("Tr0ub4dor&3")
        );
        assert_eq!(sealer.open("other_field", &sealed), None);
        assert_eq!(
            Sealer::new().open("admin_password", &sealed),
            None,
            "another process"
        );
        assert_eq!(sealer.open("admin_password", "garbage!"), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            sealer.open("admin_password", &String::from_utf8(tampered).unwrap()),
            None
        );
    }
}
