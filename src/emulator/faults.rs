//! Faults a test can queue for the next ARM requests, to exercise a client's resilience.

use std::collections::VecDeque;
use std::time::Duration;

/// One kind of misbehaviour, applied to the next `count` ARM requests (never to the token
/// endpoint or the health check). Queued faults apply one after the other, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 `TooManyRequests` with `Retry-After: retry_after_secs`; the request is not executed.
    Throttle { count: usize, retry_after_secs: u64 },
    /// `status` (500, 502, 503 or 504) with an ARM error body; the request is not executed.
    ServerError { count: usize, status: u16 },
    /// 200 with an HTML page instead of JSON (a proxy's error page); the request is not executed.
    NotJson { count: usize },
    /// The request IS executed, then its JSON body is cut in half and sent with status 200
    /// (a connection dropped mid-body): a client must not trust it and must not blindly resend
    /// a non-idempotent request.
    Truncated { count: usize },
    /// The request waits `delay`, then is executed normally.
    Latency { count: usize, delay: Duration },
}

impl Fault {
    fn count(&self) -> usize {
        match self {
            Fault::Throttle { count, .. }
            | Fault::ServerError { count, .. }
            | Fault::NotJson { count }
            | Fault::Truncated { count }
            | Fault::Latency { count, .. } => *count,
        }
    }

    fn with_count(&self, count: usize) -> Fault {
        let mut copy = self.clone();
        match &mut copy {
            Fault::Throttle { count: c, .. }
            | Fault::ServerError { count: c, .. }
            | Fault::NotJson { count: c }
            | Fault::Truncated { count: c }
            | Fault::Latency { count: c, .. } => *c = count,
        }
        copy
    }
}

/// Takes the fault for one request off the queue (with `count` 1), if any is queued.
pub(crate) fn take_one(queue: &mut VecDeque<Fault>) -> Option<Fault> {
    while let Some(front) = queue.front_mut() {
        let remaining = front.count();
        if remaining == 0 {
            queue.pop_front();
            continue;
        }
        let one = front.with_count(1);
        *front = front.with_count(remaining - 1);
        if remaining == 1 {
            queue.pop_front();
        }
        return Some(one);
    }
    None
}

/// The ARM error code of a server error status.
pub(crate) fn server_error_code(status: u16) -> (&'static str, &'static str) {
    match status {
        502 => (
            "BadGateway",
            "The gateway did not receive a response from 'Microsoft.MachineLearningServices' within the specified time period.",
        ),
        503 => (
            "ServiceUnavailable",
            "The server (leased) is currently unable to handle the request due to a temporary overloading or maintenance. Please retry later.",
        ),
        504 => (
            "GatewayTimeout",
            "The gateway did not receive a response from 'Microsoft.MachineLearningServices' within the specified time period.",
        ),
        _ => (
            "InternalServerError",
            "Encountered internal server error. Diagnostic information: timestamp '', subscription id '', tracking id '', request correlation id ''.",
        ),
    }
}

pub(crate) const HTML_ERROR_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. Please try again later.</p></body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order() {
        let mut q = VecDeque::from([
            Fault::NotJson { count: 2 },
            Fault::Truncated { count: 0 },
            Fault::Throttle {
                count: 1,
                retry_after_secs: 3,
            },
        ]);
        assert_eq!(take_one(&mut q), Some(Fault::NotJson { count: 1 }));
        assert_eq!(take_one(&mut q), Some(Fault::NotJson { count: 1 }));
        assert_eq!(
            take_one(&mut q),
            Some(Fault::Throttle {
                count: 1,
                retry_after_secs: 3
            })
        );
        assert_eq!(take_one(&mut q), None);
    }
}
