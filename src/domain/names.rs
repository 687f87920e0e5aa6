//! Compute name rules.
//!
//! Azure's service rule (the pattern on every compute path of the REST spec) is
//! `^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$`. The `regex` crate has no look-ahead, so
//! it is written by hand. The studio's create form applies a stricter rule that users know from
//! Azure ML studio: every `-` must be followed later by at least one letter.

use std::fmt;

/// Why a name was refused; the message names the rule so a person can fix the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    Length {
        min: usize,
        max: usize,
        actual: usize,
    },
    FirstNotLetter,
    BadCharacter(char),
    EndsWithDashDigits,
    DashWithoutLetterAfter,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "Compute name is required."),
            NameError::Length { min, max, actual } => write!(
                f,
                "Compute name must be between {min} and {max} characters long (it has {actual})."
            ),
            NameError::FirstNotLetter => write!(f, "Compute name must start with a letter."),
            NameError::BadCharacter(c) => write!(
                f,
                "Compute name may only contain letters, digits and '-' ('{}' is not allowed).",
                c.escape_default()
            ),
            NameError::EndsWithDashDigits => write!(
                f,
                "Compute name must not end with '-' followed only by digits."
            ),
            NameError::DashWithoutLetterAfter => write!(
                f,
                "Every '-' in a compute name must be followed later by at least one letter."
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Length bounds of instance and cluster names (Azure's service pattern).
pub const COMPUTE_NAME_LENGTH: (usize, usize) = (3, 24);

/// Length bounds of inference cluster (AKS) names, as the studio and Azure's docs give them.
pub const INFERENCE_NAME_LENGTH: (usize, usize) = (2, 16);

/// Azure's own rule, the one the service (and so the emulator) enforces on every compute path.
pub fn check_service_rule(name: &str) -> Result<(), NameError> {
    check_characters(name, COMPUTE_NAME_LENGTH)?;
    // The look-ahead applies from the second character on: the tail must not be `...-<digits>`.
    check_no_dash_digits_ending(name)
}

/// The studio form's stricter rule: the service rule, and every `-` followed later by a letter.
pub fn check_studio_rule(name: &str) -> Result<(), NameError> {
    check_service_rule(name)?;
    check_dashes_followed_by_letter(name)
}

/// An inference cluster's name: 2 to 16 characters, and otherwise the studio's rules (letters,
/// digits and `-`, a letter first, no `-` without a letter somewhere after it).
///
/// The REST spec's path pattern says 3–24 for every compute; the studio and Azure's naming
/// docs say 2–16 for AKS, the rule our users know, so the form and the emulator apply this one
/// to inference clusters.
pub fn check_inference_rule(name: &str) -> Result<(), NameError> {
    check_characters(name, INFERENCE_NAME_LENGTH)?;
    check_no_dash_digits_ending(name)?;
    check_dashes_followed_by_letter(name)
}

/// What the emulator enforces for AKS computes: the length and characters of
/// [`check_inference_rule`] with the service's ending rule (no `-` followed only by digits).
pub fn check_inference_service_rule(name: &str) -> Result<(), NameError> {
    check_characters(name, INFERENCE_NAME_LENGTH)?;
    check_no_dash_digits_ending(name)
}

fn check_no_dash_digits_ending(name: &str) -> Result<(), NameError> {
    if let Some(pos) = name[1..].rfind('-') {
        let after = &name[1 + pos + 1..];
        if !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NameError::EndsWithDashDigits);
        }
    }
    Ok(())
}

fn check_characters(name: &str, (min, max): (usize, usize)) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(NameError::BadCharacter(bad));
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return Err(NameError::FirstNotLetter);
    }
    let actual = name.len();
    if actual < min || actual > max {
        return Err(NameError::Length { min, max, actual });
    }
    Ok(())
}

fn check_dashes_followed_by_letter(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'-' && !bytes[i + 1..].iter().any(u8::is_ascii_alphabetic) {
            return Err(NameError::DashWithoutLetterAfter);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_rule_matches_the_spec_pattern() {
        let cases = [
            ("ci", false),
            ("cpu", true),
            ("cpu-cluster", true),
            ("cpu-cluster-1", false),
            ("cpu-1a", true),
            ("cpu-", true),
            ("a-1", false),
            ("ci-dev-01", false),
            ("ci-dev-a01", true),
            ("1abc", false),
            ("my_ci", false),
            ("abcdefghijklmnopqrstuvwx", true),
            ("abcdefghijklmnopqrstuvwxy", false),
            ("x-y-2", false),
            ("", false),
            ("ab\u{e9}", false),
        ];
        for (name, valid) in cases {
            assert_eq!(check_service_rule(name).is_ok(), valid, "{name:?}");
        }
    }

    /// The create form's rule, edge by edge: every rule with a name on each side of it.
    #[test]
    fn studio_rule_table() {
        use NameError::*;
        let too_long = "a".repeat(25);
        let longest = "a".repeat(24);
        let cases: Vec<(&str, Result<(), NameError>)> = vec![
            // length: 3 to 24
            ("", Err(Empty)),
            (
                "a",
                Err(Length {
                    min: 3,
                    max: 24,
                    actual: 1,
                }),
            ),
            (
                "ab",
                Err(Length {
                    min: 3,
                    max: 24,
                    actual: 2,
                }),
            ),
            ("abc", Ok(())),
            (longest.as_str(), Ok(())),
            (
                too_long.as_str(),
                Err(Length {
                    min: 3,
                    max: 24,
                    actual: 25,
                }),
            ),
            // first character
            ("1abc", Err(FirstNotLetter)),
            ("-abc", Err(FirstNotLetter)),
            ("Abc", Ok(())),
            ("zzz", Ok(())),
            // characters
            ("ab_c", Err(BadCharacter('_'))),
            ("ab c", Err(BadCharacter(' '))),
            ("ab.c", Err(BadCharacter('.'))),
            ("abé", Err(BadCharacter('é'))),
            ("ab\u{0}c", Err(BadCharacter('\u{0}'))),
            ("ab😀c", Err(BadCharacter('😀'))),
            ("a1b2c3", Ok(())),
            ("ABC123", Ok(())),
            // dashes: each followed later by a letter
            ("cpu-", Err(DashWithoutLetterAfter)),
            ("cpu--", Err(DashWithoutLetterAfter)),
            ("cpu-a", Ok(())),
            ("cpu--a", Ok(())),
            ("cpu-1", Err(EndsWithDashDigits)),
            ("cpu-12a", Ok(())),
            ("ci-1-2", Err(EndsWithDashDigits)),
            ("ci-1-2a", Ok(())),
            ("ci-a-1", Err(EndsWithDashDigits)),
            ("ci-dev-box", Ok(())),
            ("a-b-c-d-e", Ok(())),
            ("data-2024-q", Ok(())),
            ("data-2024-", Err(DashWithoutLetterAfter)),
            ("x-1y", Ok(())),
        ];
        assert!(cases.len() >= 30);
        for (name, expected) in cases {
            assert_eq!(check_studio_rule(name), expected, "{name:?}");
        }
    }

    /// Inference clusters: 2 to 16 characters, the same characters and dashes.
    #[test]
    fn inference_rule_table() {
        use NameError::*;
        let longest = "a".repeat(16);
        let too_long = "a".repeat(17);
        let cases: Vec<(&str, Result<(), NameError>)> = vec![
            ("", Err(Empty)),
            (
                "a",
                Err(Length {
                    min: 2,
                    max: 16,
                    actual: 1,
                }),
            ),
            ("ab", Ok(())),
            ("a1", Ok(())),
            (longest.as_str(), Ok(())),
            (
                too_long.as_str(),
                Err(Length {
                    min: 2,
                    max: 16,
                    actual: 17,
                }),
            ),
            ("1a", Err(FirstNotLetter)),
            ("a_b", Err(BadCharacter('_'))),
            ("aks-", Err(DashWithoutLetterAfter)),
            ("aks-1", Err(EndsWithDashDigits)),
            ("aks-prod", Ok(())),
            ("aks-1a", Ok(())),
        ];
        for (name, expected) in cases {
            assert_eq!(check_inference_rule(name), expected, "{name:?}");
        }
        assert_eq!(check_inference_service_rule("ab"), Ok(()));
        assert_eq!(
            check_inference_service_rule("aks-"),
            Ok(()),
            "the service's rule"
        );
        assert!(check_inference_service_rule(&too_long).is_err());
        assert!(
            check_service_rule("ab").is_err(),
            "other computes keep 3 to 24"
        );
    }

    #[test]
    fn studio_rule_also_wants_a_letter_after_each_dash() {
        assert_eq!(
            check_studio_rule("cpu-"),
            Err(NameError::DashWithoutLetterAfter)
        );
        assert_eq!(
            check_studio_rule("ci-1-2a"),
            Ok(()),
            "each dash has a letter somewhere after it"
        );
        assert_eq!(
            check_studio_rule("ci-1-2"),
            Err(NameError::EndsWithDashDigits)
        );
        assert!(check_studio_rule("data-box").is_ok());
    }
}
