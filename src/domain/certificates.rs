//! The SSL certificate and private key of an inference cluster's scoring endpoint, as a person
//! pastes them: PEM text, checked before Azure sees them.
//!
//! The certificate (with its chain, leaf first) must parse as X.509 and be valid now: an
//! expired one is refused with the date it expired. The key must be an unencrypted PEM private
//! key (PKCS#8, PKCS#1 RSA or SEC1 EC) whose public half is the certificate's: a key of another
//! certificate is the commonest mistake and is named as such. The name the endpoint is reached
//! by (the CNAME) must be one the certificate covers.
//!
//! No message ever holds any of the pasted text: a private key pasted into the wrong field must
//! not reach a page or a log through an error.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair, RsaKeyPair,
};
use time::OffsetDateTime;
use time::macros::format_description;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::field::FieldErrors;

/// The most PEM text either field takes: a chain of a few certificates is well under this.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

/// A checked certificate and key, described by what is public about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslCertificate {
    /// The leaf's subject common name, if it has one.
    pub common_name: Option<String>,
    /// The DNS names of the leaf's subject alternative names.
    pub dns_names: Vec<String>,
    pub not_after: OffsetDateTime,
    /// SHA-256 of the leaf's DER, as `AB:CD:…`.
    pub fingerprint: String,
    /// Certificates in the chain, the leaf included.
    pub chain_length: usize,
}

impl SslCertificate {
    /// Checks the pasted certificate (field `ssl_cert`) and key (field `ssl_key`) at `now`.
    pub fn check(
        cert_pem: &str,
        key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<SslCertificate, FieldErrors> {
        let mut errors = FieldErrors::new();
        let leaf = errors.check("ssl_cert", read_chain(cert_pem));
        let key = errors.check("ssl_key", read_private_key(key_pem));
        let Some((leaf_der, chain_length)) = leaf else {
            return Err(errors);
        };
        let certificate = match X509Certificate::from_der(&leaf_der) {
            Ok((_, certificate)) => certificate,
            Err(_) => {
                errors.add(
                    "ssl_cert",
                    "The certificate could not be read as X.509: paste the whole PEM block of the certificate file (.pem or .crt).",
                );
                return Err(errors);
            }
        };
        let not_before = certificate.validity().not_before.to_datetime();
        let not_after = certificate.validity().not_after.to_datetime();
        if not_after < now {
            errors.add(
                "ssl_cert",
                format!(
                    "The certificate expired on {}; paste one that is valid now.",
                    day(not_after)
                ),
            );
        } else if not_before > now {
            errors.add(
                "ssl_cert",
                format!(
                    "The certificate is not valid until {}; paste one that is valid now.",
                    day(not_before)
                ),
            );
        }
        if let Some(key) = key {
            let certified = certificate.public_key().subject_public_key.data.as_ref();
            if key.public_key != certified {
                errors.add(
                    "ssl_key",
                    "The private key does not match the certificate: it is the key of another certificate. Paste the key the certificate was made for.",
                );
            }
        }
        errors.into_result()?;
        let common_name = certificate
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let dns_names = certificate
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DNSName(dns) => Some(dns.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SslCertificate {
            common_name,
            dns_names,
            not_after,
            fingerprint: fingerprint(&leaf_der),
            chain_length,
        })
    }

    /// Whether the certificate is for `host`: a DNS name of its alternative names (or, without
    /// any, its common name), a `*.` wildcard covering one label.
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        let names: Vec<&str> = if self.dns_names.is_empty() {
            self.common_name.iter().map(String::as_str).collect()
        } else {
            self.dns_names.iter().map(String::as_str).collect()
        };
        names.iter().any(|name| {
            let name = name.to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(parent) => host
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
                None => name == host,
            }
        })
    }

    /// The names the certificate is for, for messages and the review.
    pub fn names(&self) -> String {
        if self.dns_names.is_empty() {
            self.common_name.clone().unwrap_or_else(|| "no name".into())
        } else {
            self.dns_names.join(", ")
        }
    }

    /// "for scoring.contoso.com, valid until 2027-01-31, SHA-256 AB:CD:…".
    pub fn describe(&self) -> String {
        format!(
            "for {}, valid until {}, SHA-256 {}",
            self.names(),
            day(self.not_after),
            self.fingerprint
        )
    }
}

/// The name clients reach the endpoint by: a DNS name the certificate must cover.
pub fn check_cname(cname: &str, certificate: Option<&SslCertificate>) -> Result<(), String> {
    let cname = cname.trim();
    if cname.is_empty() {
        return Err(
            "Domain name (CNAME) is required with your own certificate: the name clients will use to reach the endpoint.".into(),
        );
    }
    check_dns_name("Domain name (CNAME)", cname)?;
    if let Some(certificate) = certificate
        && !certificate.covers(cname)
    {
        return Err(format!(
            "The certificate is for {}, not for {cname}; use a name it covers or another certificate.",
            certificate.names()
        ));
    }
    Ok(())
}

/// A fully qualified DNS name: labels of letters, digits and `-` (not at either end of a
/// label), at most 63 characters each and 253 in all, with at least two labels.
pub fn check_dns_name(label: &str, name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.');
    if name.len() > 253 {
        return Err(format!("{label} must be at most 253 characters long."));
    }
    let labels: Vec<&str> = name.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !valid {
        return Err(format!(
            "{label} must be a domain name such as scoring.contoso.com: labels of letters, digits and '-', separated by dots."
        ));
    }
    Ok(())
}

/// The leaf certificate's DER and the number of certificates in the chain.
fn read_chain(text: &str) -> Result<(Vec<u8>, usize), String> {
    if text.len() > MAX_PEM_BYTES {
        return Err(format!(
            "The certificate is too long (at most {MAX_PEM_BYTES} bytes); paste only the certificate and its chain."
        ));
    }
    let blocks = pem_blocks(text);
    if blocks.is_empty() {
        return Err(if text.trim().is_empty() {
            "Certificate is required: paste the PEM text of the certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.".into()
        } else {
            "Certificate must be PEM text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.".into()
        });
    }
    let mut ders = Vec::new();
    for block in blocks {
        match pem_rfc7468::decode_vec(block.as_bytes()) {
            Ok(("CERTIFICATE", der)) => ders.push(der),
            Ok((label, _)) if label.contains("PRIVATE KEY") => {
                return Err("The certificate field holds a private key; paste the certificate here and the key in its own field.".into());
            }
            Ok(_) => {
                return Err("The certificate field holds a PEM block that is not a certificate; paste only -----BEGIN CERTIFICATE----- blocks.".into());
            }
            Err(_) => {
                return Err("A certificate block is damaged (cut off or altered); copy the whole file again.".into());
            }
        }
    }
    let count = ders.len();
    for der in &ders[1..] {
        if X509Certificate::from_der(der).is_err() {
            return Err(
                "A certificate of the chain could not be read as X.509; copy the whole file again."
                    .into(),
            );
        }
    }
    Ok((ders.swap_remove(0), count))
}

/// A private key's public half, in the form certificates carry it.
struct PrivateKey {
    public_key: Vec<u8>,
}

fn read_private_key(text: &str) -> Result<PrivateKey, String> {
    if text.len() > MAX_PEM_BYTES {
        return Err(format!(
            "The private key is too long (at most {MAX_PEM_BYTES} bytes); paste only the key."
        ));
    }
    if text.trim().is_empty() {
        return Err("Private key is required: paste the PEM text of the certificate's key, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.".into());
    }
    if text.contains("ENCRYPTED") {
        return Err("The private key is protected by a passphrase, which Azure cannot use here. Remove it first, for example with `openssl pkey -in key.pem -out key-plain.pem`, and paste the result.".into());
    }
    let blocks = pem_blocks(text);
    let [block] = blocks.as_slice() else {
        return Err(if blocks.is_empty() {
            "Private key must be PEM text, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.".into()
        } else {
            "Paste one private key only.".into()
        });
    };
    let (label, der) = pem_rfc7468::decode_vec(block.as_bytes()).map_err(|_| {
        "The private key is damaged (cut off or altered); copy the whole file again.".to_string()
    })?;
    let public_key = match label {
        "PRIVATE KEY" => public_half_of_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
            .ok()
            .map(|k| k.public_key().as_ref().to_vec()),
        "EC PRIVATE KEY" => [
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &ECDSA_P384_SHA384_ASN1_SIGNING,
        ]
        .into_iter()
        .find_map(|alg| EcdsaKeyPair::from_private_key_der(alg, &der).ok())
        .map(|k| k.public_key().as_ref().to_vec()),
        "CERTIFICATE" => {
            return Err("The key field holds a certificate; paste the private key here and the certificate in its own field.".into());
        }
        _ => {
            return Err("The key field holds a PEM block that is not a private key; paste -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----.".into());
        }
    };
    public_key
        .map(|public_key| PrivateKey { public_key })
        .ok_or_else(|| "The private key could not be read: it must be an RSA, ECDSA (P-256 or P-384) or Ed25519 key.".into())
}

fn public_half_of_pkcs8(der: &[u8]) -> Option<Vec<u8>> {
    if let Ok(key) = RsaKeyPair::from_pkcs8(der) {
        return Some(key.public_key().as_ref().to_vec());
    }
    for alg in [
        &ECDSA_P256_SHA256_ASN1_SIGNING,
        &ECDSA_P384_SHA384_ASN1_SIGNING,
    ] {
        if let Ok(key) = EcdsaKeyPair::from_pkcs8(alg, der) {
            return Some(key.public_key().as_ref().to_vec());
        }
    }
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .ok()
        .map(|k| k.public_key().as_ref().to_vec())
}

/// Each `-----BEGIN …-----` to `-----END …-----` block of a text, line endings normalised.
fn pem_blocks(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN ") {
        let from_begin = &rest[start..];
        let Some(end_at) = from_begin.find("-----END ") else {
            // A BEGIN without its END: a cut-off block, which decoding refuses.
            blocks.push(from_begin.to_string());
            break;
        };
        let after_end = &from_begin[end_at + "-----END ".len()..];
        let close = after_end.find("-----").map_or(after_end.len(), |i| i + 5);
        let length = end_at + "-----END ".len() + close;
        blocks.push(format!("{}\n", from_begin[..length].trim()));
        rest = &from_begin[length..];
    }
    blocks
}

fn fingerprint(der: &[u8]) -> String {
    digest(&SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn day(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair as RcgenKeyPair, PKCS_ECDSA_P256_SHA256};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    struct Made {
        cert: String,
        key: String,
    }

    /// A self-signed certificate for `names`, valid between the two dates, made now.
    fn made(names: &[&str], from: OffsetDateTime, until: OffsetDateTime) -> Made {
        let key = RcgenKeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_before = from;
        params.not_after = until;
        let cert = params.self_signed(&key).unwrap();
        Made {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn valid() -> Made {
        made(
            &["scoring.contoso.com"],
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2027-01-31 0:00 UTC),
        )
    }

    #[test]
    fn a_valid_pair_is_described_by_its_public_parts() {
        let pair = valid();
        let checked = SslCertificate::check(&pair.cert, &pair.key, NOW).unwrap();
        assert_eq!(checked.dns_names, ["scoring.contoso.com"]);
        assert_eq!(checked.chain_length, 1);
        assert!(
            checked
                .describe()
                .starts_with("for scoring.contoso.com, valid until 2027-01-31, SHA-256 ")
        );
        assert!(checked.covers("SCORING.contoso.com"));
        assert!(!checked.covers("other.contoso.com"));
        // Windows line endings and a chain of two are read alike.
        let chain = format!("{}{}", pair.cert, valid().cert).replace('\n', "\r\n");
        assert_eq!(
            SslCertificate::check(&chain, &pair.key, NOW)
                .unwrap()
                .chain_length,
            2
        );
    }

    #[test]
    fn a_key_of_another_certificate_is_named_as_such_without_repeating_it() {
        let pair = valid();
        let other = valid();
        let errors = SslCertificate::check(&pair.cert, &other.key, NOW).unwrap_err();
        let message = errors.for_field("ssl_key").unwrap();
        assert!(
            message.contains("does not match the certificate"),
            "{message}"
        );
        assert!(errors.for_field("ssl_cert").is_none());
        for error in errors.iter() {
            assert!(!error.message.contains("BEGIN"));
        }
    }

    /// Expiry at its edge: a second after `not after` is too late, a second before is fine.
    #[test]
    fn an_expired_certificate_is_refused_with_its_date() {
        let until = datetime!(2026-02-28 23:59:59 UTC);
        let pair = made(&["a.contoso.com"], datetime!(2025-01-01 0:00 UTC), until);
        let errors = SslCertificate::check(&pair.cert, &pair.key, NOW).unwrap_err();
        assert_eq!(
            errors.for_field("ssl_cert"),
            Some("The certificate expired on 2026-02-28; paste one that is valid now.")
        );
        assert!(
            SslCertificate::check(&pair.cert, &pair.key, until - time::Duration::seconds(1))
                .is_ok()
        );
        let future = made(
            &["a.contoso.com"],
            datetime!(2026-06-01 0:00 UTC),
            datetime!(2027-06-01 0:00 UTC),
        );
        let errors = SslCertificate::check(&future.cert, &future.key, NOW).unwrap_err();
        assert!(
            errors
                .for_field("ssl_cert")
                .unwrap()
                .contains("not valid until 2026-06-01")
        );
    }

    #[test]
    fn mix_ups_and_damage_are_named() {
        let pair = valid();
        let swapped = SslCertificate::check(&pair.key, &pair.cert, NOW).unwrap_err();
        assert!(
            swapped
                .for_field("ssl_cert")
                .unwrap()
                .contains("holds a private key")
        );
        assert!(
            swapped
                .for_field("ssl_key")
                .unwrap()
                .contains("holds a certificate")
        );
        let cut = &pair.cert[..pair.cert.len() / 2];
        let errors = SslCertificate::check(cut, &pair.key, NOW).unwrap_err();
        assert!(errors.for_field("ssl_cert").unwrap().contains("damaged"));
        let errors = SslCertificate::check("", "", NOW).unwrap_err();
        assert!(errors.for_field("ssl_cert").unwrap().contains("required"));
        assert!(errors.for_field("ssl_key").unwrap().contains("required"));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIHs\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let errors = SslCertificate::check(&pair.cert, encrypted, NOW).unwrap_err();
        assert!(errors.for_field("ssl_key").unwrap().contains("passphrase"));
        let errors = SslCertificate::check("not pem at all", &pair.key, NOW).unwrap_err();
        assert!(
            errors
                .for_field("ssl_cert")
                .unwrap()
                .contains("must be PEM")
        );
    }

    #[test]
    fn the_cname_must_be_covered() {
        let pair = made(
            &["*.contoso.com"],
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2027-01-01 0:00 UTC),
        );
        let checked = SslCertificate::check(&pair.cert, &pair.key, NOW).unwrap();
        assert_eq!(check_cname("scoring.contoso.com", Some(&checked)), Ok(()));
        assert!(
            check_cname("a.b.contoso.com", Some(&checked))
                .unwrap_err()
                .contains("not for a.b.contoso.com")
        );
        assert!(check_cname("contoso.com", Some(&checked)).is_err());
        assert!(check_cname("", None).unwrap_err().contains("required"));
        assert!(check_cname("no_underscores.com", None).is_err());
        assert!(check_cname("single", None).is_err());
    }
}
