//! Checking the SSH private key (and its passphrase) a person gives to attach a machine.
//!
//! Attaching a virtual machine or an HDInsight cluster hands Azure ML a way in: a password, or
//! — better — a private key, optionally protected by a passphrase. The key is parsed here, and
//! an encrypted one is decrypted with the passphrase, so a wrong passphrase or a damaged key is
//! said beside its field instead of surfacing later as a failed job.
//!
//! Accepted: OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`, what `ssh-keygen`
//! writes today), plain or with a passphrase; and unencrypted PEM keys (`-----BEGIN RSA PRIVATE
//! KEY-----`, `-----BEGIN EC PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY-----`, what `ssh-keygen
//! -m PEM` and OpenSSL write). The old PEM encryption (`Proc-Type: 4,ENCRYPTED`) is refused with
//! the command that converts the key.
//!
//! Neither an error nor the description of a key holds any of the pasted text or the
//! passphrase: only the key type and the public key's fingerprint, which are not secret.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    RsaKeyPair,
};
use ssh_key::{HashAlg, PrivateKey};

/// The most text the field takes: an RSA 16384-bit key is under 13 KiB.
pub const MAX_PRIVATE_KEY_BYTES: usize = 16 * 1024;

/// A private key that parsed (and, if encrypted, opened with its passphrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPrivateKey {
    /// The key as pasted, line endings normalised: what Azure receives.
    text: String,
    description: String,
    encrypted: bool,
    /// The public half as one OpenSSH line, when the key is in OpenSSH's format.
    public_openssh: Option<String>,
}

/// Which field a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    PrivateKey,
    Passphrase,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshPrivateKeyError {
    #[error(
        "SSH private key is required: paste the contents of the key file, such as ~/.ssh/id_ed25519."
    )]
    Empty,
    #[error(
        "SSH private key is too long ({bytes} bytes; at most {MAX_PRIVATE_KEY_BYTES}); paste one key only."
    )]
    TooLong { bytes: usize },
    #[error(
        "SSH private key field holds a PUBLIC key (a .pub file). Paste the private key file instead: the one without .pub."
    )]
    PublicKey,
    #[error(
        "SSH private key is a PuTTY .ppk file. In PuTTYgen, load it and choose Conversions → Export OpenSSH key, then paste that file."
    )]
    Putty,
    #[error(
        "SSH private key uses the old PEM encryption, which cannot be opened here. Convert it with `ssh-keygen -p -f <key file>` (it keeps the passphrase and writes the OpenSSH format) and paste the result."
    )]
    LegacyEncryption,
    #[error(
        "SSH private key is an encrypted PKCS#8 key. Convert it with `ssh-keygen -p -f <key file>` and paste the result."
    )]
    EncryptedPkcs8,
    #[error(
        "SSH private key is not a private key; paste the whole file, from -----BEGIN OPENSSH PRIVATE KEY----- to its END line."
    )]
    NotAKey,
    #[error("SSH private key is damaged (cut off or altered); copy the whole file again.")]
    Damaged,
    #[error(
        "SSH private key type is not supported; use an RSA (2048 bits or more), ECDSA or Ed25519 key."
    )]
    Unsupported,
    #[error("This key is protected by a passphrase: type it in the passphrase field.")]
    PassphraseNeeded,
    #[error("The passphrase does not open this key; type it again.")]
    WrongPassphrase,
    #[error("This key has no passphrase; leave the passphrase field empty.")]
    PassphraseNotNeeded,
}

impl SshPrivateKeyError {
    pub fn field(&self) -> KeyField {
        match self {
            SshPrivateKeyError::PassphraseNeeded
            | SshPrivateKeyError::WrongPassphrase
            | SshPrivateKeyError::PassphraseNotNeeded => KeyField::Passphrase,
            _ => KeyField::PrivateKey,
        }
    }
}

impl SshPrivateKey {
    /// Parses `text` and, when the key is encrypted, opens it with `passphrase`.
    pub fn parse(text: &str, passphrase: &str) -> Result<SshPrivateKey, SshPrivateKeyError> {
        if text.len() > MAX_PRIVATE_KEY_BYTES {
            return Err(SshPrivateKeyError::TooLong { bytes: text.len() });
        }
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        let trimmed = normalised.trim();
        if trimmed.is_empty() {
            return Err(SshPrivateKeyError::Empty);
        }
        if trimmed.contains("PuTTY-User-Key-File-") {
            return Err(SshPrivateKeyError::Putty);
        }
        if crate::domain::ssh::SshPublicKey::parse(trimmed).is_ok()
            || trimmed.starts_with("ssh-")
            || trimmed.starts_with("ecdsa-")
        {
            return Err(SshPrivateKeyError::PublicKey);
        }
        let text = format!("{trimmed}\n");
        let first_line = trimmed.lines().next().unwrap_or_default().trim();
        let key = match first_line {
            "-----BEGIN OPENSSH PRIVATE KEY-----" => parse_openssh(&text, passphrase)?,
            "-----BEGIN RSA PRIVATE KEY-----"
            | "-----BEGIN EC PRIVATE KEY-----"
            | "-----BEGIN PRIVATE KEY-----" => parse_pem(&text, passphrase)?,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----" => {
                return Err(SshPrivateKeyError::EncryptedPkcs8);
            }
            _ => return Err(SshPrivateKeyError::NotAKey),
        };
        Ok(key)
    }

    /// The key as Azure receives it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// "ED25519 key SHA256:… (protected by a passphrase)": nothing secret.
    pub fn describe(&self) -> String {
        if self.encrypted {
            format!("{} (protected by a passphrase)", self.description)
        } else {
            self.description.clone()
        }
    }

    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The public half as an OpenSSH line, for `publicKeyData`, when it can be known.
    pub fn public_openssh(&self) -> Option<&str> {
        self.public_openssh.as_deref()
    }
}

fn parse_openssh(text: &str, passphrase: &str) -> Result<SshPrivateKey, SshPrivateKeyError> {
    let key = PrivateKey::from_openssh(text).map_err(|_| SshPrivateKeyError::Damaged)?;
    let encrypted = key.is_encrypted();
    let opened = match (encrypted, passphrase.is_empty()) {
        (true, true) => return Err(SshPrivateKeyError::PassphraseNeeded),
        (true, false) => key
            .decrypt(passphrase)
            .map_err(|_| SshPrivateKeyError::WrongPassphrase)?,
        (false, false) => return Err(SshPrivateKeyError::PassphraseNotNeeded),
        (false, true) => key,
    };
    let label = match opened.algorithm() {
        ssh_key::Algorithm::Ed25519 => "ED25519",
        ssh_key::Algorithm::Rsa { .. } => "RSA",
        ssh_key::Algorithm::Ecdsa { .. } => "ECDSA",
        _ => return Err(SshPrivateKeyError::Unsupported),
    };
    let mut public = opened.public_key().clone();
    public.set_comment("");
    Ok(SshPrivateKey {
        text: text.to_string(),
        description: format!("{label} key {}", opened.fingerprint(HashAlg::Sha256)),
        encrypted,
        public_openssh: public.to_openssh().ok().map(|line| line.trim().to_string()),
    })
}

fn parse_pem(text: &str, passphrase: &str) -> Result<SshPrivateKey, SshPrivateKeyError> {
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(SshPrivateKeyError::LegacyEncryption);
    }
    if !passphrase.is_empty() {
        return Err(SshPrivateKeyError::PassphraseNotNeeded);
    }
    let (label, der) =
        pem_rfc7468::decode_vec(text.as_bytes()).map_err(|_| SshPrivateKeyError::Damaged)?;
    let kind = match label {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).ok().map(|_| "RSA"),
        "EC PRIVATE KEY" => [
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &ECDSA_P384_SHA384_ASN1_SIGNING,
        ]
        .into_iter()
        .find_map(|alg| EcdsaKeyPair::from_private_key_der(alg, &der).ok())
        .map(|_| "ECDSA"),
        _ => pkcs8_kind(&der),
    };
    let kind = kind.ok_or(SshPrivateKeyError::Unsupported)?;
    Ok(SshPrivateKey {
        text: text.to_string(),
        description: format!("{kind} key in PEM format"),
        encrypted: false,
        public_openssh: None,
    })
}

fn pkcs8_kind(der: &[u8]) -> Option<&'static str> {
    if RsaKeyPair::from_pkcs8(der).is_ok() {
        return Some("RSA");
    }
    if [
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ECDSA_P384_SHA384_ASN1_SIGNING,
    ]
    .into_iter()
    .any(|alg| EcdsaKeyPair::from_pkcs8(alg, der).is_ok())
    {
        return Some("ECDSA");
    }
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .ok()
        .map(|_| "ED25519")
}

#[cfg(test)]
mod tests {
    use super::*;
    use SshPrivateKeyError as E;

    const ED25519: &str = include_str!("../../tests/fixtures/ssh/ed25519");
    const ED25519_PASSPHRASE: &str = include_str!("../../tests/fixtures/ssh/ed25519_passphrase");
    const PASSPHRASE: &str = "correct horse battery";
    const RSA_PEM: &str = include_str!("../../tests/fixtures/ssh/rsa_pem");
    const RSA_PEM_LEGACY: &str = include_str!("../../tests/fixtures/ssh/rsa_pem_legacy_encrypted");

    #[test]
    fn openssh_keys_parse_and_are_described_by_their_fingerprint() {
        let key = SshPrivateKey::parse(ED25519, "").unwrap();
        assert_eq!(
            key.describe(),
            "ED25519 key SHA256:TyWEHGGIISAHx0+6kK+ETpVJOUxFgcVS6jp+G7Hn8Dg",
            "as `ssh-keygen -l` prints it"
        );
        assert!(
            key.public_openssh()
                .unwrap()
                .starts_with("ssh-ed25519 AAAA")
        );
        assert_eq!(key.text(), ED25519);
        let crlf = ED25519.replace('\n', "\r\n");
        assert_eq!(SshPrivateKey::parse(&crlf, "").unwrap().text(), ED25519);
    }

    #[test]
    fn an_encrypted_key_opens_only_with_its_passphrase() {
        let key = SshPrivateKey::parse(ED25519_PASSPHRASE, PASSPHRASE).unwrap();
        assert!(key.is_encrypted());
        assert!(key.describe().ends_with("(protected by a passphrase)"));
        assert_eq!(
            key.text(),
            ED25519_PASSPHRASE,
            "sent as given, with the passphrase"
        );
        assert_eq!(
            SshPrivateKey::parse(ED25519_PASSPHRASE, ""),
            Err(E::PassphraseNeeded)
        );
        let wrong = SshPrivateKey::parse(ED25519_PASSPHRASE, "correct horse").unwrap_err();
        assert_eq!(wrong, E::WrongPassphrase);
        assert_eq!(wrong.field(), KeyField::Passphrase);
        assert_eq!(
            SshPrivateKey::parse(ED25519, "unneeded"),
            Err(E::PassphraseNotNeeded)
        );
    }

    #[test]
    fn pem_keys_parse_and_the_old_encryption_is_refused_with_advice() {
        assert_eq!(
            SshPrivateKey::parse(RSA_PEM, "").unwrap().describe(),
            "RSA key in PEM format"
        );
        let refused = SshPrivateKey::parse(RSA_PEM_LEGACY, "legacy pass").unwrap_err();
        assert_eq!(refused, E::LegacyEncryption);
        assert!(refused.to_string().contains("ssh-keygen -p"));
    }

    #[test]
    fn mistakes_are_named_without_repeating_the_key() {
        let public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4KOr/i alice@laptop";
        assert_eq!(SshPrivateKey::parse(public, ""), Err(E::PublicKey));
        assert_eq!(SshPrivateKey::parse("", ""), Err(E::Empty));
        assert_eq!(SshPrivateKey::parse("hunter2", ""), Err(E::NotAKey));
        assert_eq!(
            SshPrivateKey::parse("PuTTY-User-Key-File-3: ssh-ed25519\n", ""),
            Err(E::Putty)
        );
        let cut = &ED25519[..ED25519.len() / 2];
        let damaged = SshPrivateKey::parse(cut, "").unwrap_err();
        assert!(matches!(damaged, E::Damaged | E::NotAKey), "{damaged:?}");
        let mut altered = ED25519.to_string();
        altered.replace_range(60..64, "AAAA");
        assert!(SshPrivateKey::parse(&altered, "").is_err());
        assert!(matches!(
            SshPrivateKey::parse(&"a".repeat(MAX_PRIVATE_KEY_BYTES + 1), ""),
            Err(E::TooLong { .. })
        ));
        let body: String = ED25519.lines().nth(1).unwrap().chars().take(20).collect();
        for error in [E::Damaged, E::WrongPassphrase, E::NotAKey, E::PublicKey] {
            assert!(!error.to_string().contains(&body));
        }
    }
}
