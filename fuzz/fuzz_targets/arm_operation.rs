//! The body behind an `Azure-AsyncOperation` URL, and ARM's error body with any status: what
//! the poller and every failed request read.
#![no_main]

use std::time::Duration;

use compute_studio::azure::{ArmError, LroStatus, parse};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(LroStatus::Failed(e)) = parse::operation_status(data, Some(Duration::from_secs(1))) {
        assert!(matches!(e, ArmError::OperationFailed { .. }));
        let _ = (e.code(), e.user_message());
    }
    // The first two bytes pick the status (any u16, not only 4xx/5xx), the rest is the body.
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (500, data),
    };
    let e = parse::error_body(status, body);
    assert_eq!(e.status(), Some(status));
    assert!(!e.code().is_empty());
    let _ = (e.user_message(), e.to_string());
});
