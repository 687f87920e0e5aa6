//! Checking the SSH public key a person pastes into a compute form.
//!
//! Azure ML takes an SSH public key only as one OpenSSH line, such as
//! `ssh-ed25519 AAAAC3Nza… alice@laptop`. If we passed the pasted text on
//! unchecked, a mistake would come back from Azure minutes later as a vague
//! deployment failure, far away from the field that caused it. So we check the
//! key here, before anything is sent to Azure, and every refusal is a sentence
//! meant to be shown right beside the field: what is wrong, and what to do.
//!
//! # What is accepted
//!
//! One line made of a key type, the base64 key data and an optional comment.
//! The key types are `ssh-ed25519`, `ssh-rsa` (modulus of at least 2048 bits),
//! `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384` and `ecdsa-sha2-nistp521`.
//! Whitespace and blank lines around the line are ignored; the comment is kept.
//! The key data is fully decoded (with the `ssh-key` crate), so a line that
//! merely looks right but was cut short is caught here too.
//!
//! # What is refused
//!
//! Each common mistake has its own [`SshKeyError`] variant and message: a
//! private key pasted by mistake, a PuTTY `.ppk` file, the SSH2 (RFC 4716) or
//! PEM public-key formats, a cut-off line, a short RSA key, a key type Azure
//! does not take, several keys at once, and so on.
//!
//! RFC 4716 blocks (what PuTTYgen's "Save public key" writes) are refused
//! with instructions rather than converted. Converting means handling header
//! lines, quoted comments and backslash continuations, and a conversion that
//! guesses wrong would quietly send Azure a key that is not the one the person
//! meant. Copying the OpenSSH line from PuTTYgen is one click, so we ask for it.
//!
//! # Keeping secrets out of errors
//!
//! People sometimes paste a private key by mistake. No error value holds any
//! of the pasted text, so a secret cannot reach a log line or a web page
//! through an error. The only piece of input ever kept is the short type name
//! of an unsupported key (such as `ssh-dss`), and only after it has been
//! checked to look like a key type name.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ssh_key::public::KeyData;
use ssh_key::{EcdsaCurve, HashAlg, Mpint, PublicKey};

/// The most text we look at, in bytes.
///
/// The largest public key OpenSSH makes (RSA, 16384 bits) is under 3 KiB as a
/// line, so anything longer cannot be one key. The length is checked before
/// anything else, which keeps refusing a megabyte of junk cheap.
pub const MAX_KEY_TEXT_BYTES: usize = 16 * 1024;

/// The smallest RSA modulus accepted, in bits. Shorter RSA keys are
/// considered breakable, and 2048 bits is also Azure's own minimum.
pub const MIN_RSA_BITS: u32 = 2048;

/// Key types we accept, exactly as they appear at the start of the line.
const ACCEPTED_ALGORITHMS: [&str; 5] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// The accepted types as they are listed in messages.
const ACCEPTED_TYPES_FOR_PEOPLE: &str = "ssh-ed25519, ssh-rsa (2048 bits or more), \
     ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521";

/// Key types that exist but that we do not take. We know them by name so the
/// message can say "ssh-dss is not supported" instead of "this is not a key".
const REFUSED_ALGORITHMS: [&str; 6] = [
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed448",
    "x509v3-sign-rsa",
    "x509v3-sign-dss",
];

/// How the names of OpenSSH certificate types end.
const CERTIFICATE_SUFFIX: &str = "-cert-v01@openssh.com";

/// How the base64 key data of every SSH key starts. The data begins with the
/// 4-byte length of the key type name; names are short, so the first three
/// bytes are zero, and three zero bytes are "AAAA" in base64.
const KEY_DATA_START: &str = "AAAA";

/// "openssh-key-v1" in base64: the start of the body of an OpenSSH private
/// key. Recognising it catches a private key even without its BEGIN line.
const OPENSSH_PRIVATE_KEY_BODY_START: &str = "b3BlbnNzaC1rZXktdjE";

/// Some Windows editors put this invisible mark at the start of a file, and
/// it comes along when the file's text is copied.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// Standard base64 with the trailing "=" padding optional: a few tools drop
/// it, and it carries no information.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A checked SSH public key of a type Azure accepts, ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPublicKey {
    kind: KeyKind,
    /// The normalised line: single spaces, canonical base64, comment kept.
    openssh_line: String,
    /// "SHA256:…", as `ssh-keygen -l` prints it.
    fingerprint: String,
    comment: String,
}

/// The accepted key types, with what we need to know to describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa { bits: u32 },
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
}

impl KeyKind {
    fn label(self) -> &'static str {
        match self {
            KeyKind::Rsa { .. } => "RSA",
            KeyKind::Ed25519 => "ED25519",
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::EcdsaP521 => "ECDSA P-521",
        }
    }

    fn rsa_bits(self) -> Option<u32> {
        match self {
            KeyKind::Rsa { bits } => Some(bits),
            _ => None,
        }
    }
}

impl SshPublicKey {
    /// Parses the text a person pasted into a public-key field.
    pub fn parse(text: &str) -> Result<SshPublicKey, SshKeyError> {
        // Before looking at a single character, so huge junk costs nothing.
        if text.len() > MAX_KEY_TEXT_BYTES {
            return Err(SshKeyError::TooLong { bytes: text.len() });
        }
        let text = text.trim().trim_start_matches(BYTE_ORDER_MARK).trim();
        if text.is_empty() {
            return Err(SshKeyError::Empty);
        }
        // Whole-text mistakes first: a private key must be named as such even
        // if there is also a public key somewhere in the text.
        if let Some(problem) = recognise_other_format(text) {
            return Err(problem);
        }
        if contains_control_characters(text) {
            return Err(SshKeyError::ControlCharacters);
        }

        let lines: Vec<&str> = non_blank_lines(text).collect();
        let key_lines: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|line| looks_like_key_line(line))
            .collect();
        match key_lines.as_slice() {
            [] => Err(explain_text_without_key(&lines)),
            [line] if lines.len() == 1 => parse_key_line(line),
            [line] => {
                // A problem in the key line itself is the more useful thing to
                // report: a key wrapped onto several lines shows up here as a
                // cut-off first line followed by the rest of its data.
                parse_key_line(line)?;
                Err(SshKeyError::ExtraText)
            }
            several => Err(SshKeyError::MultipleKeys {
                count: several.len(),
            }),
        }
    }

    /// The key as one normalised OpenSSH line "ssh-ed25519 AAAA… comment"
    /// (what is sent to Azure).
    pub fn to_openssh(&self) -> String {
        self.openssh_line.clone()
    }

    /// "SHA256:…" fingerprint, to show back to the user. It is the same text
    /// `ssh-keygen -l -f key.pub` prints, so people can compare the two.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// Words for the page, e.g. "ED25519 key SHA256:abc… (alice@laptop)" or
    /// "RSA 4096-bit key SHA256:…".
    pub fn describe(&self) -> String {
        let key_type = match self.kind {
            KeyKind::Rsa { bits } => format!("RSA {bits}-bit"),
            other => other.label().to_owned(),
        };
        let mut words = format!("{key_type} key {}", self.fingerprint);
        if !self.comment.is_empty() {
            words.push_str(&format!(" ({})", self.comment));
        }
        words
    }

    /// "RSA", "ED25519", "ECDSA P-256", "ECDSA P-384" or "ECDSA P-521".
    pub fn algorithm_label(&self) -> &'static str {
        self.kind.label()
    }

    /// The RSA modulus length in bits, or `None` for other key types.
    pub fn rsa_bits(&self) -> Option<u32> {
        self.kind.rsa_bits()
    }
}

/// Why a pasted SSH public key was refused. Each message names the field and
/// says what to do. No variant holds the pasted text (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshKeyError {
    #[error(
        "SSH public key is required when SSH access is on. Paste the contents of your \
         .pub file, for example ~/.ssh/id_ed25519.pub."
    )]
    Empty,

    #[error(
        "SSH public key is too long ({bytes} bytes; the limit is {MAX_KEY_TEXT_BYTES}). \
         A public key is a single line of at most a few thousand characters: paste only \
         the contents of your .pub file."
    )]
    TooLong { bytes: usize },

    #[error(
        "SSH public key field contains a PRIVATE key, which must never be shared. Paste \
         the public key instead: the contents of the matching .pub file (for example \
         ~/.ssh/id_ed25519.pub)."
    )]
    PrivateKey,

    #[error(
        "SSH public key field contains a PuTTY private key (.ppk file), which must never \
         be shared. In PuTTYgen, load the key and copy the text in the box \"Public key \
         for pasting into OpenSSH authorized_keys file\" instead."
    )]
    Putty,

    #[error(
        "SSH public key is in the SSH2 (RFC 4716) format that PuTTYgen's \"Save public \
         key\" writes, but it must be the one-line OpenSSH form. Copy it from PuTTYgen's \
         box \"Public key for pasting into OpenSSH authorized_keys file\", or convert \
         the file with `ssh-keygen -i -f key.pub` and paste the result."
    )]
    Rfc4716,

    #[error(
        "SSH public key is in PEM format (-----BEGIN PUBLIC KEY-----), but it must be \
         the one-line OpenSSH form. Convert it with `ssh-keygen -i -m PKCS8 -f key.pem` \
         (use -m PEM for -----BEGIN RSA PUBLIC KEY-----) and paste the result."
    )]
    PemPublicKey,

    #[error(
        "SSH public key contains invisible control characters. Copy the key again as \
         plain text, for example from the output of `cat ~/.ssh/id_ed25519.pub`."
    )]
    ControlCharacters,

    #[error(
        "SSH public key looks cut off: its key data is incomplete or damaged. Copy the \
         whole line from your .pub file again; it is one long line that starts with the \
         key type, such as ssh-ed25519 AAAA…"
    )]
    Truncated,

    #[error(
        "SSH public key is too weak: RSA keys must be at least {MIN_RSA_BITS} bits; this \
         one has {bits}. Make a new key with `ssh-keygen -t ed25519` (or `ssh-keygen -t \
         rsa -b 4096`) and paste its .pub file."
    )]
    RsaTooShort { bits: u32 },

    #[error("{}", unsupported_message(.algorithm))]
    Unsupported { algorithm: String },

    #[error(
        "SSH public key says it is {declared} but its key data is {found}, so the line \
         has been altered. Copy the whole line from your .pub file again."
    )]
    AlgorithmMismatch { declared: String, found: String },

    #[error("SSH public key field contains {count} keys; paste one key only.")]
    MultipleKeys { count: usize },

    #[error(
        "SSH public key field must hold only the key line; remove the other text around \
         it."
    )]
    ExtraText,

    #[error(
        "SSH public key has text before the key type (like an option from an \
         authorized_keys file). Paste only the part that starts with the key type, such \
         as ssh-ed25519 AAAA…"
    )]
    OptionsBeforeKey,

    #[error(
        "SSH public key is not an OpenSSH public key; it should look like `ssh-ed25519 \
         AAAA… you@host`. Paste the contents of your .pub file, for example the output of \
         `cat ~/.ssh/id_ed25519.pub`."
    )]
    NotAKey,
}

impl SshKeyError {
    /// The pasted text was a secret (a private key): a page must not show it again, even in
    /// the field it was typed into.
    pub fn pasted_a_secret(&self) -> bool {
        matches!(self, SshKeyError::PrivateKey | SshKeyError::Putty)
    }
}

/// The message for [`SshKeyError::Unsupported`], tailored to the two kinds of
/// unsupported key people actually have: certificates and security-key keys.
fn unsupported_message(algorithm: &str) -> String {
    if algorithm.ends_with(CERTIFICATE_SUFFIX) {
        format!(
            "SSH public key is an OpenSSH certificate ({algorithm}), which cannot be used \
             here. Paste the plain public key instead (the .pub file whose name does not \
             end in -cert.pub). Accepted key types: {ACCEPTED_TYPES_FOR_PEOPLE}."
        )
    } else if algorithm.starts_with("sk-") {
        format!(
            "SSH public key is a hardware security key (FIDO) key ({algorithm}), which \
             Azure does not accept. Make a regular key with `ssh-keygen -t ed25519` and \
             paste its .pub file. Accepted key types: {ACCEPTED_TYPES_FOR_PEOPLE}."
        )
    } else {
        format!(
            "SSH public key type {algorithm} is not supported. Accepted key types: \
             {ACCEPTED_TYPES_FOR_PEOPLE}. Make a new key with `ssh-keygen -t ed25519` and \
             paste its .pub file."
        )
    }
}

/// Recognises whole texts that are some other kind of key file.
fn recognise_other_format(text: &str) -> Option<SshKeyError> {
    if looks_like_private_key(text) {
        Some(SshKeyError::PrivateKey)
    } else if text.contains("PuTTY-User-Key-File-") {
        // PuTTY's own file format only exists for private keys.
        Some(SshKeyError::Putty)
    } else if text.contains("BEGIN SSH2 PUBLIC KEY") {
        Some(SshKeyError::Rfc4716)
    } else if text.contains("-----BEGIN PUBLIC KEY-----")
        || text.contains("-----BEGIN RSA PUBLIC KEY-----")
    {
        Some(SshKeyError::PemPublicKey)
    } else {
        None
    }
}

/// True for any PEM-style private key ("-----BEGIN OPENSSH PRIVATE KEY-----",
/// "…RSA…", "…EC…", "…DSA…", "…ENCRYPTED…", plain "BEGIN PRIVATE KEY", and
/// the SSH2 "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"), and for the body
/// of an OpenSSH private key pasted without its BEGIN line.
fn looks_like_private_key(text: &str) -> bool {
    let has_begin_line =
        lines_of(text).any(|line| line.contains("BEGIN") && line.contains("PRIVATE KEY"));
    let has_openssh_body = text
        .split_whitespace()
        .any(|word| word.starts_with(OPENSSH_PRIVATE_KEY_BODY_START));
    has_begin_line || has_openssh_body
}

/// Tabs and line breaks are ordinary in pasted text; anything else invisible
/// (NUL, escape sequences from a terminal, …) should not be sent to Azure.
fn contains_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Lines split at "\n", "\r\n" and a lone "\r" alike.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
}

fn non_blank_lines(text: &str) -> impl Iterator<Item = &str> {
    lines_of(text)
        .map(str::trim)
        .filter(|line| !line.is_empty())
}

/// A line that starts the way a key line does, valid or not. Used to count
/// keys and to pick the line to check.
fn looks_like_key_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or_default();
    let second = words.next().unwrap_or_default();
    is_known_algorithm(first)
        || (looks_like_algorithm_name(first) && second.starts_with(KEY_DATA_START))
}

fn is_known_algorithm(name: &str) -> bool {
    ACCEPTED_ALGORITHMS.contains(&name)
        || REFUSED_ALGORITHMS.contains(&name)
        || is_certificate(name)
}

fn is_certificate(name: &str) -> bool {
    looks_like_algorithm_name(name) && name.ends_with(CERTIFICATE_SUFFIX)
}

/// Key type names are short lowercase ASCII words with dashes, such as
/// "ssh-rsa" or "sk-ssh-ed25519@openssh.com". Only text of this shape is ever
/// kept in an error, so an error cannot carry a chunk of someone's secret.
fn looks_like_algorithm_name(word: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '@' | '.' | '_');
    (2..=64).contains(&word.len())
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word.contains('-')
        && word.chars().all(allowed)
}

/// How many "type AAAA…" pairs appear in the words of a text. Catches two
/// keys joined on one line, which would otherwise look like a key whose
/// comment is the second key.
fn count_keys_in(text: &str) -> usize {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| is_known_algorithm(pair[0]) && pair[1].starts_with(KEY_DATA_START))
        .count()
}

/// Picks the most helpful refusal for text in which no line starts like a key.
fn explain_text_without_key(lines: &[&str]) -> SshKeyError {
    if lines.iter().any(|line| count_keys_in(line) > 0) {
        // The key is there, but something stands before its type.
        SshKeyError::OptionsBeforeKey
    } else if lines
        .first()
        .is_some_and(|line| line.starts_with(KEY_DATA_START))
    {
        // Key data without the type in front: the start of the line is missing.
        SshKeyError::Truncated
    } else {
        SshKeyError::NotAKey
    }
}

/// Splits off the first whitespace-separated word; the rest comes back trimmed.
/// Any Unicode space counts, so a non-breaking space copied from a web page
/// separates the fields like an ordinary one.
fn split_first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// Checks one "type base64 comment" line completely.
fn parse_key_line(line: &str) -> Result<SshPublicKey, SshKeyError> {
    let (algorithm, rest) = split_first_word(line);
    let (key_base64, comment) = split_first_word(rest);
    if !ACCEPTED_ALGORITHMS.contains(&algorithm) {
        return Err(refuse_algorithm(algorithm, key_base64));
    }
    let more_keys = count_keys_in(comment);
    if more_keys > 0 {
        return Err(SshKeyError::MultipleKeys {
            count: 1 + more_keys,
        });
    }

    // Bad base64 almost always means part of the line is missing.
    let key_data = BASE64
        .decode(key_base64)
        .map_err(|_| SshKeyError::Truncated)?;
    let mut key = decode_key_data(algorithm, &key_data)?;
    let kind = key_kind(key.key_data())?;
    if let Some(bits) = kind.rsa_bits().filter(|&bits| bits < MIN_RSA_BITS) {
        return Err(SshKeyError::RsaTooShort { bits });
    }

    key.set_comment(comment);
    // Re-encoding a key that was just decoded cannot fail in practice; if it
    // ever did, the data was not what it seemed.
    let openssh_line = key.to_openssh().map_err(|_| SshKeyError::Truncated)?;
    Ok(SshPublicKey {
        kind,
        openssh_line,
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        comment: comment.to_owned(),
    })
}

/// Decodes the binary key data and checks it is the type the line says.
fn decode_key_data(declared: &str, key_data: &[u8]) -> Result<PublicKey, SshKeyError> {
    // `from_bytes` reads the data to the end and refuses leftovers, so data
    // that is shortened (or has junk added) fails here.
    let key = PublicKey::from_bytes(key_data).map_err(|_| SshKeyError::Truncated)?;
    let found = key.algorithm();
    if found.as_str() != declared {
        return Err(SshKeyError::AlgorithmMismatch {
            declared: declared.to_owned(),
            found: found.as_str().to_owned(),
        });
    }
    Ok(key)
}

fn key_kind(key_data: &KeyData) -> Result<KeyKind, SshKeyError> {
    match key_data {
        KeyData::Ed25519(_) => Ok(KeyKind::Ed25519),
        KeyData::Ecdsa(key) => Ok(match key.curve() {
            EcdsaCurve::NistP256 => KeyKind::EcdsaP256,
            EcdsaCurve::NistP384 => KeyKind::EcdsaP384,
            EcdsaCurve::NistP521 => KeyKind::EcdsaP521,
        }),
        KeyData::Rsa(key) => modulus_bits(&key.n)
            .map(|bits| KeyKind::Rsa { bits })
            .ok_or(SshKeyError::Truncated),
        // Not reachable for lines whose type is accepted and matches the
        // data, but refusing is the safe answer if it ever is.
        other => Err(SshKeyError::Unsupported {
            algorithm: other.algorithm().as_str().to_owned(),
        }),
    }
}

/// The number of significant bits in an RSA modulus, or `None` if it is zero
/// or negative (which no real key has).
fn modulus_bits(modulus: &Mpint) -> Option<u32> {
    let digits = modulus.as_positive_bytes()?;
    let first_nonzero = digits.iter().position(|&byte| byte != 0)?;
    let (top_byte, lower_bytes) = digits[first_nonzero..].split_first()?;
    let lower_bits = u32::try_from(lower_bytes.len()).ok()?.checked_mul(8)?;
    lower_bits.checked_add(8 - top_byte.leading_zeros())
}

/// The refusal for a key line whose type is not one we accept.
fn refuse_algorithm(algorithm: &str, key_base64: &str) -> SshKeyError {
    // A type we know, or an unknown name that the key data itself confirms,
    // is a real key of another type; name it. Anything else is not a key.
    let is_real_key_type = is_known_algorithm(algorithm)
        || (looks_like_algorithm_name(algorithm)
            && type_named_in_key_data(key_base64).as_deref() == Some(algorithm));
    if is_real_key_type {
        SshKeyError::Unsupported {
            algorithm: algorithm.to_owned(),
        }
    } else {
        SshKeyError::NotAKey
    }
}

/// The key type name stored at the start of base64 key data: a 4-byte
/// big-endian length followed by that many bytes of name.
fn type_named_in_key_data(key_base64: &str) -> Option<String> {
    let key_data = BASE64.decode(key_base64).ok()?;
    let (length, rest) = key_data.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    let name = rest.get(..length)?;
    String::from_utf8(name.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures made with `ssh-keygen -C alice@laptop` for these tests only;
    // the private keys below are throwaway keys that guard nothing.

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4KOr/i alice@laptop";
    const RSA_2048: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCeo7IxRmAB3iVH0owhxQgWd369loWKy2oDMdpbT5ovgxuT8b8PN6ZGDf4vNU3UfX54oLK0yl7W052/wS8CXvWkcEGw3s3ojudRTN4MpHYTusmYHtIkXxWH9YhtMVNal0M1anoDi3AZjx/CBfYMcuZ5B6c8fhfp6hhYnezebzgp38NTHvra7tdMiCqoRkoR3AuwoG/AeSoj5kJLsyx/FInCo/sgMfjE/FfSAYwuuL4FOzgETW0u8j4BqxodLw52cW83F1ZI2Ws1grA8u5s5ko8c9Jw+6E5fUlEAZq8VeEJFmufjGQdnLbSBvIqe62RgxqYleQiLOxxQtl/z0LEHG2t5 alice@laptop";
    const RSA_4096: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQCm30+OgQyISAXmtE2hf375F27pMKcDce8SrE5jWDZqC+K9ent/G0u+NieUg1uPX46E6TXNHagKgoxv3sAC1sHhyh64XaFzq+YAIR/zsTqOKcDt4/8vdHax2cq/GrlCyKafk45ZwJNtkaG8kPJni6FGhz5drMg2I7qYjZtXUjBCIE6VnpxjwTpnPzZ+ED1Pl5QaD6cY8PL1v2JeDibOmCh8dJhYdgVoQY1+3XekZkSUVW7lwx9sWtjJ/L6aw6yFwe/g+1Hof3KIzlaXub8Tdc2QD4V0erxkscV4aYjxskjZfxRVHIkNFVBDBX6Y5RirrQX+CRTuuvPVQtPIIfIOdQJ4UAQaWbcYJhMrK7XMWeuouaI9N7rIP/ynrI2/EGLAvquZQkEs4KkQ2CFpfDR7UKFKoEQ4s3hZ/dypLHr01n9oKBdCEe6LvRIER80NDSJku0sbq0FZQ0PNKVT6LOws/wvXUHp49/Ixr8GS3iOftAAtz02UG3MZgeZdLVtzJVZMHF/bZ04uxtQiGX9Z95VHpiFW7e3dznu5Zf2TAAfoxlWMIhd+yMxIM40IVfqJ0lTjivPXZLv/nZ/HNNyuJdQKUM3UBGyDP8d8IWl2rse0Nwa41TfHeHNppQsfYQZ4pyYhFGDYhVykifcvnM33vd90+kJHaxT29RtyO0ufbT4MKta1Aw== alice@laptop";
    const RSA_1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDBttutL/LgukuSLEsNd2BGlGbMWgSWHTjFLwPxGhpIlTCHfuJPzw0YXjPtGVFTd00liPkdaUsUqs2sxzvoX4RbCsDoB1OMYeuutR6S0i1iTLy7QgpAMUWEKKWRVEkXzpEI3Tkj0NLnLYanPSQGa3zo/2yTp6R68SA8hwJqwQWcAw== alice@laptop";
    const ECDSA_256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBJdH0ypoF7W55SLJhfFudsfJH7tEq2+VAWhTk4NuesPh/M+YsZ5j037T8U5TJoi09aylhndaVZ0HWxw25RmCiI= alice@laptop";
    const ECDSA_384: &str = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKYvZYberndGjME0tC+BCk3PTjUw2zx8W+NPguOhBupDWpAFXmum3s444XVFe7FXO9pICYkTmo7Y8jf+S/1ktxgkNy6y3vv7QDXUokI3SIfacfg1BxUWOwjdqHcSzOfdXg== alice@laptop";
    const ECDSA_521: &str = "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAAsDSzo5p7HW79XuHlPfpWjBCxv5+jXsRp/FG/kI8vHeRfoSh+10QbSMbDXtwJ84m4hCZqvhKwX0dhnSF99hzFXRwEsxlxgzXz64+8g5SKypy/0GZRiJnNGIUmgWicwQC3Khg1zAsyggKl6Hv3FyYQea53Z5pTjUMpZ2HB9RIozy1N2JQ== alice@laptop";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAKeckJHihft3T7JdEPwYG0MZ368slSeZae+bKDlcYGLMgQiN053ms8nCXXMAReEif1WGcChede9olfXhoFik9nx0ERFzk1aNms4/hV5IzGkoXWYOb6huVGYuN98HE9Q2xjOHPcCDR41wj1XO84h2LM86e7hh4WkEypMPJnqnSWD3AAAAFQCLOAcHXBYhXGMi8aJV6kYJjN7RdwAAAIAYN0tu1Q18mvm7KFO6II/sTaVXiMztTtji+tntPX5EU7Brna0f83xaEnCnaVQnvubKjewzMPX6TYWq8cWkkWZ3pEJqosSP66kjnstKCUugoD+MRVZPia/IB3yBz27EEHWxtR2f9ZTkTMyGfT1Yh/OQ1RZMp08v8qIUc3W7S6Jt0QAAAIAt5PU2O9smHKU5t3AIXgFjCRjQ2/2M83DXks0DntwjlhRI4XKcjPMofWRruUbD+Wsr6rCan6B3kXXiTmxD1A/JJDbB8i1ASdXH5EsbgOanlzMoQD9MR8FdSXnymxHH6ySw49nE5rDgPORAmVIwXTqLmFfEwkzvonC0GiofWdL8kw== alice@laptop";
    /// The ED25519 key above, signed by a throwaway CA (`ssh-keygen -s`).
    const ED25519_CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIOaQCWCeiErw2LGj6pT2vHVJHM+JDsKVE9EV/XGAh0ysAAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4KOr/iAAAAAAAAAAAAAAABAAAABWFsaWNlAAAACQAAAAVhbGljZQAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACC6b5fehmCq+W7IYNuVhm7/cOZ8OtjJUlQKlmfC1t3RuQAAAFMAAAALc3NoLWVkMjU1MTkAAABAD48ls+F0yj8oosoDUPQ02u+l1GaLDiCo4wEGWvnNAXCAtqPcUAPOXAWcsJl6EMD5fuE8UrpNDEUTmHHj+WArDw== alice@laptop";

    /// The private half of ED25519 above.
    const OPENSSH_PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACC05u0exEEEKPxtCalnyuQNjSMTN8JQ6B6LRIK+Cjq/4gAAAJDA9pZSwPaW
UgAAAAtzc2gtZWQyNTUxOQAAACC05u0exEEEKPxtCalnyuQNjSMTN8JQ6B6LRIK+Cjq/4g
AAAEBW1t/CLcs8LjKQ14m+ZZF76dYL/lS7AkeM+ea+5YIJm7Tm7R7EQQQo/G0JqWfK5A2N
IxM3wlDoHotEgr4KOr/iAAAADGFsaWNlQGxhcHRvcAE=
-----END OPENSSH PRIVATE KEY-----
";
    const RSA_PEM_PRIVATE_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAt+I13q8za6U2RochXUx9nweN+gY6UdeCXCqryaO68CEOZTiN
+RkG+gxXCe/ryemGbX5NIsH7vG04W7P5kqDN2ohCHpWWtq06ikvxq/+MoAQip2ts
8zFzyAToP05oNIO1Ssa5TYqHQFXQeDjgw3mJfxTYSgMEu4VLHZY2FcBqpqoIC4Ng
FoZQMUB0PIE9Qmux4SVZCsyc3Bx9W8URrgXyFoEQ9jMdsuj2SqHC6ybKluemvbgb
U6MsO3l9rQNC4/V7NLA+IfPSbUBfLC+/RIMf9Ixm64VtrRFK+6QauSNtgAs8SY0j
R8fmG5GwJm9P9IGCS+buzzjLqK+0P/SAcXBP5wIDAQABAoIBAAcJWtmDoxg8uBbW
icx0CwRL4v8av+e2IQ59jT4xFQwUMOSwIJ/UC31NNHErVZoZG7sS5qR1tm8WdAKm
V3D7HgV9gQ2m2J+8E9b49Uj28zEWF2zRhyDH1z2s7K7QoNtXTlewVRKq+R0ia4er
6zzLH636QBUoY44ddPSKvkLN972tLM2pJuWfdD5wGpnVahqRkcrSNokaz5cOaPBZ
jpjKknzGu3CyfQ2yBV1dKJr7dAZ0goT99USTeMpVFs9Hu773NChFR2RbxtB/Pf3m
uDtUs1Pd7MQ02vERDzu/tP1TheXLXLWpxdR8dsPXdF797T6NBSGI+A8gfF9g4IYq
oAh125ECgYEA5UV5m++pLdCeZLGr30P24Gadoy38xnu/920pUjdygDY6OSh14n2x
TxiKoeWgQQYqBUJ/4DUaNK3lArCEBmI0if/RIfj4AgPcgQxQZ0oa7dDmS4BCNFo+
WVFpcUmVvNm746dVCtYF39MarOQsUkt4SoJnMW3kB15i95JRnomDulkCgYEAzVIn
V2bywm8fOGySnR/XJFsw9wtLodzpoFJ6jGcSY2dR1LKMtfYRCCkn8i6ZYKQYg1TR
e8wrSzg5lhZL+bC3GdRRhFFgDYO8P1y2QCFV08oSCs94VW60wZrwHMgmTgI9/+jh
r6fQtn+2CD6Ktr1LKhS8V+Ods8+ebMZlqIdalD8CgYEAvbrCqlKoNCvCCB4n1zlN
IeKJbTJvTmm2MLF7UnhkHsnBYO+krmvJwWTTxKpb9bN+LqAbZpVLPHDzZUhh2U6H
n/O9Q1nfEvvTDE/+cZuXsVoAWlanct+DXTLMCV4VthSRMhGVhMQcVF9EYfLo4qll
wHMtpnAEFjz7tVi2hnXSNvECgYAHspHJBBIL2hCok+F3RI9TTJvsVx8RxW941D7F
7sNQuLnnqH4AAGapEKnvuXGEnwJQQijMZF4nJsd56gIVLVvf+wbHWCmquAqhsX8f
rmBCXWwJvbd8NHdQXterrJFLEWhzpK55YGhBv036xyV6LmSYAkkBXoY2DI2a9GEx
TUnHDwKBgQCpU0l8T13tgegpjpsATKPHqqQ0z1vQCURnCAs0KYRIRW7RlyMqILEP
4oGpKXCCCvxByfPfBhin+zeY656KpuL/HX8ERxOnltmHGvV8BoZhRWsZa6/4dxZ6
D5k+JUUCjIEPKaRdwYp/WUq8CgYdKGetGJCNDPZGYLEtu5auwXuc3g==
-----END RSA PRIVATE KEY-----
";
    /// Made by `ssh-keygen -m PEM -t ecdsa`.
    const EC_PEM_PRIVATE_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIB1yF7W8nDKEa8t+sZGjtMcM0l1FXb1znynl6Hd5PXh1oAoGCCqGSM49
AwEHoUQDQgAESFSrfeuMqCHf2FWWfOIZvfX3z17Bzv+7P1Vrp48eRvn2kfjD0Kjd
7cBDfkRrrA+kXuQ+t0gzY8oErYL2zjQPZw==
-----END EC PRIVATE KEY-----
";
    // For the remaining private-key forms only the BEGIN line matters; the
    // bodies are made-up base64 of the right look.
    const PKCS8_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQmFkRmFrZUJvZHlG
b3JUZXN0aW5nT25seVBsZWFzZUlnbm9yZQ==
-----END PRIVATE KEY-----
";
    const ENCRYPTED_PRIVATE_KEY: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAh8qcpxkjqzbgICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJ/AoxpV1uJR2L/0Fr048/wEgZDf
-----END ENCRYPTED PRIVATE KEY-----
";
    const DSA_PRIVATE_KEY: &str = "-----BEGIN DSA PRIVATE KEY-----
MIIBuwIBAAKBgQCnnJCR4oX7d0+yXRD8GBtDGd+vLJUnmWnvmyg5XGBizIEIjdOd
5rPJwl1zAEXhIn9VhnAoXnXvaJX14aBYpPZ8dBERc5NWjZrOP4VeSMxpKF1mDm+o
-----END DSA PRIVATE KEY-----
";

    /// The private half of ED25519 above, as `puttygen -O private` writes it.
    const PUTTY_V3_PRIVATE_KEY: &str = "PuTTY-User-Key-File-3: ssh-ed25519
Encryption: none
Comment: alice@laptop
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4K
Or/i
Private-Lines: 1
AAAAIFbW38ItyzwuMpDXib5lkXvp1gv+VLsCR4z55r7lggmb
Private-MAC: b230dad209f23dd8f735f83dda146e2d6e55fdc5e0a34b056c63eb55b5f4c7ea
";
    const PUTTY_V2_PRIVATE_KEY: &str = "PuTTY-User-Key-File-2: ssh-rsa
Encryption: aes256-cbc
Comment: rsa-key-20240101
Public-Lines: 1
AAAAB3NzaC1yc2EAAAADAQABAAAAgQDBttutL/LgukuSLEsNd2BGlGbMWgSWHTjF
Private-Lines: 1
Zm9yIHRlc3Rpbmcgb25seTsgbm90IGEgcmVhbCBwcml2YXRlIGtleSBibG9jaw==
Private-MAC: 5f0e0d3c2b1a09f8e7d6c5b4a3928170
";

    /// ED25519 above as `ssh-keygen -e -f key.pub` writes it.
    const RFC4716_FROM_SSH_KEYGEN: &str = "---- BEGIN SSH2 PUBLIC KEY ----
Comment: \"256-bit ED25519, converted by root@vm from OpenSSH\"
AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4KOr/i
---- END SSH2 PUBLIC KEY ----
";
    /// ED25519 above as PuTTYgen's "Save public key" writes it.
    const RFC4716_FROM_PUTTYGEN: &str = "---- BEGIN SSH2 PUBLIC KEY ----
Comment: \"alice@laptop\"
AAAAC3NzaC1lZDI1NTE5AAAAILTm7R7EQQQo/G0JqWfK5A2NIxM3wlDoHotEgr4K
Or/i
---- END SSH2 PUBLIC KEY ----
";

    struct Accepted {
        line: &'static str,
        label: &'static str,
        rsa_bits: Option<u32>,
        /// As printed by `ssh-keygen -l -f`.
        fingerprint: &'static str,
    }

    const ACCEPTED_KEYS: [Accepted; 6] = [
        Accepted {
            line: ED25519,
            label: "ED25519",
            rsa_bits: None,
            fingerprint: "SHA256:mtL4QdyfNP4XpXPSdIMiVrGi5AyOnyetbKtzDl7rCWA",
        },
        Accepted {
            line: RSA_2048,
            label: "RSA",
            rsa_bits: Some(2048),
            fingerprint: "SHA256:gafhNeTerHPaB4NVmySQ3MBL14uuS7DB0TAWYC5ezK0",
        },
        Accepted {
            line: RSA_4096,
            label: "RSA",
            rsa_bits: Some(4096),
            fingerprint: "SHA256:MwpbuNqyDdBfDbXtFW/CqNUgCkgEiYha1RGzaQOOSKY",
        },
        Accepted {
            line: ECDSA_256,
            label: "ECDSA P-256",
            rsa_bits: None,
            fingerprint: "SHA256:th1YC3rQA+3Fu2CcuYrcwgqcnf9VdVB6v/A4RW0BpyQ",
        },
        Accepted {
            line: ECDSA_384,
            label: "ECDSA P-384",
            rsa_bits: None,
            fingerprint: "SHA256:w9okhzP0zW4ROiOXeD8IrkkyruSQ/PRPwCoAAo8FP+g",
        },
        Accepted {
            line: ECDSA_521,
            label: "ECDSA P-521",
            rsa_bits: None,
            fingerprint: "SHA256:UN8Rrz10kPm2v2A9c6axeGWR0b2+ojpXQAipAV194yM",
        },
    ];

    fn parse(text: &str) -> Result<SshPublicKey, SshKeyError> {
        SshPublicKey::parse(text)
    }

    fn refusal(text: &str) -> SshKeyError {
        match parse(text) {
            Ok(key) => panic!("expected a refusal, got {}", key.describe()),
            Err(problem) => problem,
        }
    }

    /// The key data (second word) of a key line.
    fn key_data_of(line: &str) -> &str {
        line.split_whitespace().nth(1).unwrap()
    }

    /// A key line built from SSH wire-format strings, for key types
    /// ssh-keygen cannot make here.
    fn hand_made_line(algorithm: &str, fields: &[&[u8]]) -> String {
        let mut data = Vec::new();
        for field in std::iter::once(algorithm.as_bytes()).chain(fields.iter().copied()) {
            data.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            data.extend_from_slice(field);
        }
        format!("{algorithm} {} test@host", BASE64.encode(data))
    }

    /// Neither the message nor the debug form of the refusal may repeat any
    /// 16-character stretch of the pasted text. "-----BEGIN …" marker lines
    /// are left out: they hold no secret, and some messages quote the marker.
    fn assert_does_not_echo(text: &str) {
        let problem = refusal(text);
        let shown = format!("{problem} {problem:?}");
        for line in text.lines().filter(|line| !line.starts_with("----")) {
            let chars: Vec<char> = line.trim().chars().collect();
            for window in chars.windows(16) {
                let piece: String = window.iter().collect();
                assert!(!shown.contains(&piece), "error repeats {piece:?}: {shown}");
            }
        }
    }

    #[test]
    fn accepts_every_supported_key_type() {
        for expected in &ACCEPTED_KEYS {
            let key = parse(expected.line).unwrap();
            assert_eq!(key.algorithm_label(), expected.label);
            assert_eq!(key.rsa_bits(), expected.rsa_bits);
            assert_eq!(key.fingerprint(), expected.fingerprint);
            assert!(key.fingerprint().starts_with("SHA256:"));
            assert!(key.describe().starts_with(expected.label));
            assert!(key.describe().contains(expected.fingerprint));
            assert!(key.describe().ends_with(" (alice@laptop)"));
            // ssh-keygen's own output is already normalised.
            assert_eq!(key.to_openssh(), expected.line);
            assert_eq!(parse(&key.to_openssh()).unwrap(), key);
        }
    }

    #[test]
    fn describes_rsa_keys_with_their_size() {
        let key = parse(RSA_4096).unwrap();
        assert_eq!(
            key.describe(),
            "RSA 4096-bit key SHA256:MwpbuNqyDdBfDbXtFW/CqNUgCkgEiYha1RGzaQOOSKY (alice@laptop)"
        );
        assert_eq!(
            parse(ED25519).unwrap().describe(),
            "ED25519 key SHA256:mtL4QdyfNP4XpXPSdIMiVrGi5AyOnyetbKtzDl7rCWA (alice@laptop)"
        );
    }

    #[test]
    fn comment_is_optional_and_kept_as_written() {
        let bare = format!("ssh-ed25519 {}", key_data_of(ED25519));
        let key = parse(&bare).unwrap();
        assert_eq!(key.to_openssh(), bare);
        assert!(!key.describe().contains('('));

        let spaced = format!("{bare} Alice Smith (work laptop)");
        assert_eq!(parse(&spaced).unwrap().to_openssh(), spaced);
    }

    #[test]
    fn whitespace_around_and_between_fields_is_normalised() {
        let messy = format!(
            "\n\n  \t{}\t  {}   alice@laptop  \r\n\n",
            "ssh-ed25519",
            key_data_of(ED25519)
        );
        assert_eq!(parse(&messy).unwrap().to_openssh(), ED25519);
        assert_eq!(
            parse(&format!("{ED25519}\r\n")).unwrap().to_openssh(),
            ED25519
        );
        let non_breaking = ED25519.replace(' ', "\u{a0}");
        assert_eq!(parse(&non_breaking).unwrap().to_openssh(), ED25519);
        let with_bom = format!("\u{feff}{ED25519}\n");
        assert_eq!(parse(&with_bom).unwrap().to_openssh(), ED25519);
    }

    #[test]
    fn missing_base64_padding_is_tolerated() {
        let unpadded = RSA_4096.replacen("== ", " ", 1);
        assert_ne!(unpadded, RSA_4096);
        assert_eq!(parse(&unpadded).unwrap().to_openssh(), RSA_4096);
    }

    #[test]
    fn refuses_empty_text() {
        assert_eq!(refusal(""), SshKeyError::Empty);
        assert_eq!(refusal("  \n\t\r\n "), SshKeyError::Empty);
        assert!(SshKeyError::Empty.to_string().contains("required"));
    }

    #[test]
    fn refuses_short_rsa_key_and_says_how_long_it_is() {
        assert_eq!(refusal(RSA_1024), SshKeyError::RsaTooShort { bits: 1024 });
        let message = refusal(RSA_1024).to_string();
        assert!(message.contains("at least 2048 bits; this one has 1024."));
        assert!(message.contains("ssh-keygen -t ed25519"));
        assert!(message.contains("-t rsa -b 4096"));
    }

    #[test]
    fn refuses_every_private_key_form_without_repeating_it() {
        let openssh_body_only: String = OPENSSH_PRIVATE_KEY
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        let private_keys = [
            OPENSSH_PRIVATE_KEY,
            RSA_PEM_PRIVATE_KEY,
            EC_PEM_PRIVATE_KEY,
            PKCS8_PRIVATE_KEY,
            ENCRYPTED_PRIVATE_KEY,
            DSA_PRIVATE_KEY,
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3aWYtbW9kbn\n",
            &openssh_body_only,
        ];
        for text in private_keys {
            assert_eq!(refusal(text), SshKeyError::PrivateKey, "for {text}");
            assert_does_not_echo(text);
        }
        let message = SshKeyError::PrivateKey.to_string();
        assert!(message.contains("PRIVATE key"));
        assert!(message.contains("never be shared"));
        assert!(message.contains(".pub"));
    }

    #[test]
    fn private_key_is_named_even_next_to_a_public_key() {
        let both = format!("{ED25519}\n{OPENSSH_PRIVATE_KEY}");
        assert_eq!(refusal(&both), SshKeyError::PrivateKey);
        assert_does_not_echo(&both);
    }

    #[test]
    fn refuses_putty_private_keys_without_repeating_them() {
        for text in [PUTTY_V3_PRIVATE_KEY, PUTTY_V2_PRIVATE_KEY] {
            assert_eq!(refusal(text), SshKeyError::Putty);
            assert_does_not_echo(text);
        }
        let message = SshKeyError::Putty.to_string();
        assert!(message.contains("PuTTY private key"));
        assert!(message.contains("Public key for pasting into OpenSSH authorized_keys file"));
    }

    #[test]
    fn refuses_rfc4716_blocks_with_conversion_advice() {
        for text in [RFC4716_FROM_SSH_KEYGEN, RFC4716_FROM_PUTTYGEN] {
            assert_eq!(refusal(text), SshKeyError::Rfc4716);
            assert_does_not_echo(text);
        }
        let message = SshKeyError::Rfc4716.to_string();
        assert!(message.contains("RFC 4716"));
        assert!(message.contains("ssh-keygen -i -f key.pub"));
    }

    #[test]
    fn refuses_pem_public_keys() {
        let spki = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
        let pkcs1 = "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEAt+I13q8za6U2\n-----END RSA PUBLIC KEY-----\n";
        for text in [spki, pkcs1] {
            assert_eq!(refusal(text), SshKeyError::PemPublicKey);
            assert_does_not_echo(text);
        }
    }

    #[test]
    fn refuses_cut_off_keys() {
        for line in [ED25519, RSA_2048, RSA_4096, ECDSA_256, ECDSA_521] {
            let (algorithm, rest) = line.split_once(' ').unwrap();
            let data = key_data_of(line);
            let cases = [
                format!("{algorithm} {}", &data[..data.len() / 2]),
                format!("{algorithm} {} alice@laptop", &data[..data.len() - 4]),
                // One character short (padding excluded: it is optional).
                format!("{algorithm} {}", {
                    let unpadded = data.trim_end_matches('=');
                    &unpadded[..unpadded.len() - 1]
                }),
                algorithm.to_owned(),
                // The start of the line is missing.
                rest.to_owned(),
                // Wrapped onto two lines, as some mail programs do.
                format!("{algorithm} {}\n{} alice@laptop", &data[..40], &data[40..]),
            ];
            for case in cases {
                assert_eq!(refusal(&case), SshKeyError::Truncated, "for {case}");
            }
        }
        assert!(SshKeyError::Truncated.to_string().contains("cut off"));
        assert!(SshKeyError::Truncated.to_string().contains("whole line"));
    }

    #[test]
    fn refuses_extra_data_after_the_key() {
        let data = key_data_of(ED25519);
        let mut longer = BASE64.decode(data).unwrap();
        longer.extend_from_slice(b"junk");
        let line = format!("ssh-ed25519 {}", BASE64.encode(longer));
        assert_eq!(refusal(&line), SshKeyError::Truncated);
    }

    #[test]
    fn refuses_a_type_name_that_does_not_match_the_key_data() {
        let line = format!("ssh-rsa {} alice@laptop", key_data_of(ED25519));
        assert_eq!(
            refusal(&line),
            SshKeyError::AlgorithmMismatch {
                declared: "ssh-rsa".to_owned(),
                found: "ssh-ed25519".to_owned(),
            }
        );
    }

    #[test]
    fn refuses_unsupported_key_types_by_name() {
        let security_key_ed25519 =
            hand_made_line("sk-ssh-ed25519@openssh.com", &[&[7; 32], b"ssh:"]);
        let security_key_ecdsa = hand_made_line(
            "sk-ecdsa-sha2-nistp256@openssh.com",
            &[b"nistp256", &[4; 65], b"ssh:"],
        );
        // A well-formed key of a type nobody has heard of.
        let future_type = hand_made_line("ssh-future-quantum", &[&[1; 40]]);
        let cases = [
            (DSA, "ssh-dss"),
            (ED25519_CERT, "ssh-ed25519-cert-v01@openssh.com"),
            (&security_key_ed25519, "sk-ssh-ed25519@openssh.com"),
            (&security_key_ecdsa, "sk-ecdsa-sha2-nistp256@openssh.com"),
            (&future_type, "ssh-future-quantum"),
        ];
        for (line, algorithm) in cases {
            let problem = refusal(line);
            assert_eq!(
                problem,
                SshKeyError::Unsupported {
                    algorithm: algorithm.to_owned()
                }
            );
            let message = problem.to_string();
            assert!(message.contains(algorithm));
            assert!(message.contains(ACCEPTED_TYPES_FOR_PEOPLE));
        }
        assert!(refusal(ED25519_CERT).to_string().contains("certificate"));
        assert!(
            refusal(&security_key_ed25519)
                .to_string()
                .contains("security key")
        );
    }

    #[test]
    fn refuses_more_than_one_key() {
        let two_lines = format!("{ED25519}\n\n{RSA_4096}\n");
        assert_eq!(refusal(&two_lines), SshKeyError::MultipleKeys { count: 2 });
        let three_lines = format!("{ED25519}\n{ECDSA_256}\n{DSA}");
        assert_eq!(
            refusal(&three_lines),
            SshKeyError::MultipleKeys { count: 3 }
        );
        let one_line = format!("{ED25519} {RSA_2048}");
        assert_eq!(refusal(&one_line), SshKeyError::MultipleKeys { count: 2 });
        assert!(refusal(&two_lines).to_string().contains("paste one key"));
    }

    #[test]
    fn refuses_other_text_beside_the_key() {
        let with_note = format!("my laptop key:\n{ED25519}\n");
        assert_eq!(refusal(&with_note), SshKeyError::ExtraText);
        let with_options = format!("from=\"10.0.0.1\",no-pty {ED25519}");
        assert_eq!(refusal(&with_options), SshKeyError::OptionsBeforeKey);
    }

    #[test]
    fn refuses_control_characters() {
        let with_nul = format!("{ED25519}\0");
        assert_eq!(refusal(&with_nul), SshKeyError::ControlCharacters);
        let with_escape = ED25519.replace("alice", "\u{1b}[31malice");
        assert_eq!(refusal(&with_escape), SshKeyError::ControlCharacters);
    }

    #[test]
    fn refuses_text_that_is_not_a_key() {
        for text in [
            "hello",
            "password123",
            "ssh alice@host",
            "AAAA",
            "é ü 漢字 🙂",
        ] {
            let problem = refusal(text);
            assert!(
                matches!(problem, SshKeyError::NotAKey | SshKeyError::Truncated),
                "{text}: {problem:?}"
            );
        }
        assert_eq!(refusal("hello world"), SshKeyError::NotAKey);
        assert!(
            SshKeyError::NotAKey
                .to_string()
                .contains("ssh-ed25519 AAAA")
        );
    }

    #[test]
    fn refuses_ten_kilobytes_of_printable_junk_as_not_a_key() {
        let mut random = XorShift::new(7);
        let junk: String = (0..10 * 1024)
            .map(|_| char::from(b' ' + (random.next() % 95) as u8))
            .collect();
        assert_eq!(refusal(&junk), SshKeyError::NotAKey);
        assert_does_not_echo(&junk);
    }

    #[test]
    fn refuses_a_megabyte_by_length_alone() {
        let junk = "x".repeat(1024 * 1024);
        assert_eq!(refusal(&junk), SshKeyError::TooLong { bytes: 1024 * 1024 });
        assert!(refusal(&junk).to_string().contains("16384"));
    }

    #[test]
    fn length_limit_counts_the_whole_text() {
        let padding = " ".repeat(MAX_KEY_TEXT_BYTES - ED25519.len());
        let at_limit = format!("{ED25519}{padding}");
        assert_eq!(at_limit.len(), MAX_KEY_TEXT_BYTES);
        assert!(parse(&at_limit).is_ok());
        let over_limit = format!("{at_limit} ");
        assert_eq!(
            refusal(&over_limit),
            SshKeyError::TooLong {
                bytes: MAX_KEY_TEXT_BYTES + 1
            }
        );
    }

    #[test]
    fn survives_absurd_lengths_inside_key_data() {
        let huge_name_length = format!("ssh-rsa {}", BASE64.encode([0xff; 64]));
        assert_eq!(refusal(&huge_name_length), SshKeyError::Truncated);
        let mut data = b"\0\0\0\x07ssh-rsa".to_vec();
        data.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
        let huge_field_length = format!("ssh-rsa {}", BASE64.encode(data));
        assert_eq!(refusal(&huge_field_length), SshKeyError::Truncated);
        let zero_modulus = hand_made_line("ssh-rsa", &[&[1, 0, 1], &[]]);
        assert_eq!(refusal(&zero_modulus), SshKeyError::Truncated);
    }

    #[test]
    fn every_message_names_the_field() {
        let all = [
            SshKeyError::Empty,
            SshKeyError::TooLong { bytes: 20_000 },
            SshKeyError::PrivateKey,
            SshKeyError::Putty,
            SshKeyError::Rfc4716,
            SshKeyError::PemPublicKey,
            SshKeyError::ControlCharacters,
            SshKeyError::Truncated,
            SshKeyError::RsaTooShort { bits: 1024 },
            SshKeyError::Unsupported {
                algorithm: "ssh-dss".to_owned(),
            },
            SshKeyError::AlgorithmMismatch {
                declared: "ssh-rsa".to_owned(),
                found: "ssh-ed25519".to_owned(),
            },
            SshKeyError::MultipleKeys { count: 2 },
            SshKeyError::ExtraText,
            SshKeyError::OptionsBeforeKey,
            SshKeyError::NotAKey,
        ];
        for problem in all {
            assert!(
                problem.to_string().contains("SSH public key"),
                "{problem:?}"
            );
        }
    }

    #[test]
    fn error_is_a_standard_error() {
        fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
        is_error::<SshKeyError>();
    }

    /// A tiny deterministic random number generator, so the fuzz loop needs
    /// no extra dependency and fails the same way every time.
    struct XorShift(u64);

    impl XorShift {
        fn new(seed: u64) -> Self {
            XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
        }

        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, limit: usize) -> usize {
            (self.next() % limit as u64) as usize
        }
    }

    /// Whatever comes in, parsing returns (no panic), and whatever is
    /// accepted is a sound key.
    fn check_never_panics(text: &str) {
        if let Ok(key) = parse(text) {
            assert!(key.rsa_bits().is_none_or(|bits| bits >= MIN_RSA_BITS));
            assert_eq!(parse(&key.to_openssh()).as_ref(), Ok(&key));
        }
    }

    #[test]
    fn random_bytes_never_cause_a_panic() {
        let mut random = XorShift::new(1);
        for _ in 0..3000 {
            let length = random.below(400);
            let bytes: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
            check_never_panics(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn damaged_real_keys_never_cause_a_panic() {
        let mut random = XorShift::new(2);
        let alphabet = b"ABCabc019+/= \n\t\r-@.AAAA\0\xc3\xa9";
        for round in 0..3000 {
            let original = ACCEPTED_KEYS[round % ACCEPTED_KEYS.len()].line;
            let mut bytes = original.as_bytes().to_vec();
            for _ in 0..1 + random.below(4) {
                let at = random.below(bytes.len());
                match random.below(3) {
                    0 => bytes[at] = alphabet[random.below(alphabet.len())],
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, random.next() as u8),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            check_never_panics(&String::from_utf8_lossy(&bytes));
        }
    }
}
