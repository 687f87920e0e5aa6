//! The wire format of server-sent events, written by hand so that one encoded event can be sent
//! to every open page that needs it.
//!
//! axum's `Sse` encodes each event for each stream (its id, name and data copied into a buffer
//! of that stream). A changed row is the same bytes for every page of the same kind of viewer,
//! so the live stream encodes it once ([`super::rendered_rows`] keeps it) and each page's
//! connection only holds a reference to it: with hundreds of pages open that is less copying
//! and less memory waiting in send queues (BENCHMARKS.md, issue 5).
//!
//! Events carry no `id:`: the stream's first bytes set one id for the whole stream instead,
//! which is all a page needs. A browser that loses the stream reconnects with `Last-Event-ID`,
//! and its presence is what tells the server that the page missed something.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;

/// Sets the stream's event id, dispatches nothing (no data), and asks a browser that loses
/// the stream to come back after a second.
pub const OPENING: &[u8] = b"id: 0\nretry: 1000\n\n";

/// A comment line: keeps proxies from closing a quiet stream; pages ignore it.
pub const KEEP_ALIVE: &[u8] = b":\n\n";

/// One event: `event: NAME` and the data, one `data:` line per line of it.
pub fn encode(name: &str, data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(name.len() + data.len() + 16);
    out.put_slice(b"event: ");
    out.put_slice(one_line(name).as_bytes());
    out.put_u8(b'\n');
    // `lines` treats "\r\n" as one break; a lone '\r' would also end a line for the browser.
    for line in data.split('\n') {
        out.put_slice(b"data: ");
        out.put_slice(line.trim_end_matches('\r').replace('\r', " ").as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// An event name is one line by construction; this keeps a bad one from breaking the framing.
fn one_line(name: &str) -> std::borrow::Cow<'_, str> {
    if name.contains(['\n', '\r']) {
        name.replace(['\n', '\r'], " ").into()
    } else {
        name.into()
    }
}

/// A `text/event-stream` response whose body is the given chunks, as they come.
pub fn response(chunks: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    use futures_util::StreamExt;
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // Tells nginx-like proxies not to hold the stream back in their buffers.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(chunks.map(Ok::<_, Infallible>)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_data_is_a_data_line() {
        assert_eq!(
            &encode("row-a", "<tr>\n  <td>x</td>\r\n</tr>")[..],
            b"event: row-a\ndata: <tr>\ndata:   <td>x</td>\ndata: </tr>\n\n"
        );
    }

    #[test]
    fn empty_data_is_one_empty_data_line_so_the_event_is_dispatched() {
        assert_eq!(
            &encode("list-changed", "")[..],
            b"event: list-changed\ndata: \n\n"
        );
    }

    #[test]
    fn carriage_returns_and_newlines_cannot_break_the_framing() {
        let encoded = encode("a\nb", "x\ry");
        assert_eq!(&encoded[..], b"event: a b\ndata: x y\n\n");
    }
}
