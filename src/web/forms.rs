//! A submitted form, read strictly: its fields as sent, with clear refusals for what a browser
//! never sends (invalid UTF-8, unknown fields, a single-value field sent twice).
//!
//! axum's `Form` decodes into a struct through serde, which silently keeps the last of
//! repeated fields and ignores unknown ones; the create forms have repeated fields of their
//! own (weekdays of a schedule), and want every oddity refused with the field's name.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;

use crate::error::AppError;

/// The largest form the dashboard takes (the CSRF check reads at most 2 MB before this).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The longest value of one field: room for the largest text a form takes (a 64 KiB PEM chain
/// or certificate key, sealed and carried by the review step), and nothing near a megabyte.
pub const MAX_FIELD_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Default)]
pub struct FormFields {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    AppError::TooLarge("The form is too large (at most 2 MB).".into())
                }
                _ => AppError::BadRequest("The form could not be read.".into()),
            })?;
        // An empty body is an empty form, whatever it claims to be (`curl -X POST`).
        if !is_form && !bytes.is_empty() {
            return Err(AppError::UnsupportedMediaType(
                "This address takes an HTML form (application/x-www-form-urlencoded).".into(),
            ));
        }
        FormFields::parse(&bytes)
    }
}

impl FormFields {
    pub fn parse(body: &[u8]) -> Result<FormFields, AppError> {
        if body.len() > MAX_FORM_BYTES {
            return Err(AppError::TooLarge(
                "The form is too large (at most 2 MB).".into(),
            ));
        }
        let mut pairs = Vec::new();
        for piece in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &[][..]),
            };
            let key = decode_component(key).map_err(|_| {
                AppError::BadRequest("A field name in the form is not valid UTF-8 text.".into())
            })?;
            let value = decode_component(value).map_err(|_| {
                AppError::BadRequest(format!(
                    "The form field '{}' is not valid UTF-8 text.",
                    printable(&key)
                ))
            })?;
            if value.len() > MAX_FIELD_BYTES {
                return Err(AppError::TooLarge(format!(
                    "The form field '{}' is too long ({} KiB; at most {} KiB).",
                    printable(&key),
                    value.len() / 1024,
                    MAX_FIELD_BYTES / 1024
                )));
            }
            pairs.push((key, value));
        }
        Ok(FormFields { pairs })
    }

    /// Refuses any field not in `known` (exact names) and not starting with one of `prefixes`,
    /// and a CSRF token sent twice.
    pub fn only_known(&self, known: &[&str], prefixes: &[&str]) -> Result<(), AppError> {
        self.one("_csrf")?;
        match self.pairs.iter().find(|(k, _)| {
            k != "_csrf"
                && !known.contains(&k.as_str())
                && !prefixes.iter().any(|p| k.starts_with(p))
        }) {
            Some((key, _)) => Err(AppError::BadRequest(format!(
                "The form has a field this page does not have: '{}'.",
                printable(key)
            ))),
            None => Ok(()),
        }
    }

    /// A field that may appear once: its value, or "" when absent.
    pub fn one(&self, name: &str) -> Result<String, AppError> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.clone()).unwrap_or_default();
        if values.next().is_some() {
            return Err(AppError::BadRequest(format!(
                "The form field '{}' was sent more than once.",
                printable(name)
            )));
        }
        Ok(first)
    }

    /// Every value of a field that may repeat (checkboxes of one group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A checkbox: on when sent with any value but "off"/"false".
    pub fn checkbox(&self, name: &str) -> Result<bool, AppError> {
        let value = self.one(name)?;
        Ok(self.has(name) && !matches!(value.as_str(), "off" | "false" | "0"))
    }

    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `+` is a space, `%XX` a byte; the bytes must be UTF-8.
fn decode_component(raw: &[u8]) -> Result<String, AppError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes)
        .map_err(|_| AppError::BadRequest("The form is not valid UTF-8 text.".into()))
}

/// A field name as a message may quote it.
fn printable(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).take(60).collect();
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_repeats_and_oddities() {
        let form =
            FormFields::parse(b"name=ci-a&day=Mon&day=Tue&text=a+b%26c&empty=&flag").unwrap();
        assert_eq!(form.one("name").unwrap(), "ci-a");
        assert_eq!(form.all("day"), ["Mon", "Tue"]);
        assert!(form.one("day").is_err(), "a single-value field sent twice");
        assert_eq!(form.one("text").unwrap(), "a b&c");
        assert_eq!(form.one("missing").unwrap(), "");
        assert!(form.checkbox("flag").unwrap());
        assert!(!form.checkbox("missing").unwrap());
        assert!(
            form.only_known(&["name", "day", "text", "empty", "flag"], &[])
                .is_ok()
        );
        let unknown = form.only_known(&["name"], &["d"]).unwrap_err().to_string();
        assert!(unknown.contains("'text'"), "{unknown}");
        assert!(FormFields::parse(b"name=%FF%FE").is_err(), "invalid UTF-8");
        assert!(
            FormFields::parse(b"%C3%28=x").is_err(),
            "invalid UTF-8 in a name"
        );
        assert!(FormFields::parse(&vec![b'a'; MAX_FORM_BYTES + 1]).is_err());
    }
}
