//! ARM's paged lists: at most a page of items and, while more remain, a `nextLink` back to the
//! same path carrying the api-version and an opaque continuation token.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::super::error::ArmError;
use super::super::util::{base64url_decode, base64url_encode};
use super::Reply;
use super::arm::Request;

/// The computes list names its token `$skip`; the Network, ManagedIdentity and ContainerService
/// lists name theirs `$skiptoken`.
pub const COMPUTES_TOKEN: &str = "$skip";
pub const SKIP_TOKEN: &str = "$skiptoken";

/// Answers one page. `page(offset, limit)` renders only the items of that page and says how many
/// items there are in all, so listing a big collection page by page stays linear.
pub fn paged_reply(
    request: &Request,
    token_name: &str,
    page_size: usize,
    page: impl FnOnce(usize, usize) -> (Vec<Value>, usize),
) -> Result<Reply, ArmError> {
    let offset = continuation_offset(request, token_name)?;
    let page_size = page_size.max(1);
    let (items, total) = page(offset, page_size);
    let mut body = json!({ "value": items });
    if offset + page_size < total {
        body["nextLink"] = json!(format!(
            "{}{}?api-version={}&{token_name}={}",
            request.base,
            request.path,
            request.api_version,
            encode_offset(offset + page_size)
        ));
    }
    Ok(Reply::json(StatusCode::OK, body))
}

/// `items[offset..offset + limit]` and the count of `items`, for collections held in full.
pub fn slice_page(items: Vec<Value>, offset: usize, limit: usize) -> (Vec<Value>, usize) {
    let total = items.len();
    (items.into_iter().skip(offset).take(limit).collect(), total)
}

fn continuation_offset(request: &Request, token_name: &str) -> Result<usize, ArmError> {
    match request.query(token_name) {
        None | Some("") => Ok(0),
        Some(token) => decode_offset(token).ok_or_else(|| {
            ArmError::bad_request(
                "BadRequest",
                format!("The continuation token '{token}' is invalid."),
            )
        }),
    }
}

fn encode_offset(offset: usize) -> String {
    base64url_encode(format!("skip:{offset}").as_bytes())
}

fn decode_offset(token: &str) -> Option<usize> {
    let bytes = base64url_decode(token)?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("skip:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_offset(&encode_offset(42)), Some(42));
        assert_eq!(decode_offset("garbage!"), None);
    }

    #[test]
    fn slices_past_the_end_are_empty() {
        let items = vec![json!(1), json!(2), json!(3)];
        assert_eq!(slice_page(items.clone(), 2, 5), (vec![json!(3)], 3));
        assert_eq!(slice_page(items, 7, 5), (vec![], 3));
    }
}
