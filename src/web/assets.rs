//! Static files, compiled into the binary so that it runs from any directory. Vendored files
//! carry their version in the name and are cached for a year; our own files are revalidated
//! with their ETag.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub const HTMX_PATH: &str = "/static/vendor/htmx-2.0.11.min.js";
/// Subresource integrity of the vendored htmx (a test recomputes it from the file).
pub const HTMX_SRI: &str =
    "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg";

pub const SSE_PATH: &str = "/static/vendor/htmx-ext-sse-2.2.4.min.js";
pub const SSE_SRI: &str = "sha384-A986SAtodyH8eg8x8irJnYUk7i9inVQqYigD6qZ9evobksGNIXfeFvDwLSHcp31N";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    immutable: bool,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "vendor/htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx-2.0.11.min.js"),
        immutable: true,
    },
    Asset {
        path: "vendor/htmx-ext-sse-2.2.4.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx-ext-sse-2.2.4.min.js"),
        immutable: true,
    },
    Asset {
        path: "copy.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/copy.js"),
        immutable: false,
    },
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
        immutable: false,
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
        immutable: false,
    },
];

pub fn router() -> Router {
    Router::new().route("/static/{*path}", get(serve))
}

async fn serve(Path(path): Path<String>, request_headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let etag = format!("\"{:016x}\"", fingerprint(asset.bytes));
    let cache_control = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let unchanged = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (headers, asset.bytes).into_response()
}

/// FNV-1a: a stable content fingerprint for the ETag (not a security property).
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::{Digest, Sha384};

    use super::*;

    #[test]
    fn the_integrity_hashes_match_the_vendored_files() {
        for (path, sri) in [(HTMX_PATH, HTMX_SRI), (SSE_PATH, SSE_SRI)] {
            let file = ASSETS
                .iter()
                .find(|a| path.ends_with(a.path))
                .expect("the file is served");
            let digest =
                base64::engine::general_purpose::STANDARD.encode(Sha384::digest(file.bytes));
            assert_eq!(
                sri,
                format!("sha384-{digest}"),
                "update the SRI constant of {path} after changing the file"
            );
        }
    }
}
