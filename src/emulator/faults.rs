//! Faults the emulator can inflict on ARM requests, to exercise a client's resilience: queued
//! ones (`Emulator::inject`, for the next requests, in order) and a seeded random
//! [`FaultPlan`] (a share of every request, reproducible from its seed). Neither ever touches
//! the token endpoint, the sign-in pages or the health check.

use std::collections::VecDeque;
use std::fmt;
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
    /// The connection breaks before the request is executed: the client gets no answer.
    ResetBeforeExecuting { count: usize },
    /// The request IS executed, then the connection breaks: the answer is lost.
    ResetAfterExecuting { count: usize },
    /// The request IS executed at once; its answer comes only after `delay` (a client that
    /// dies meanwhile never hears it).
    SlowAnswer { count: usize, delay: Duration },
    /// A create, start, stop or restart is accepted (201/202 with an async operation) and the
    /// operation ends `Failed` with an ARM error; the compute ends where Azure leaves it. Other
    /// requests are served normally.
    ProvisioningFailure { count: usize },
}

impl Fault {
    fn count(&self) -> usize {
        match self {
            Fault::Throttle { count, .. }
            | Fault::ServerError { count, .. }
            | Fault::NotJson { count }
            | Fault::Truncated { count }
            | Fault::Latency { count, .. }
            | Fault::ResetBeforeExecuting { count }
            | Fault::ResetAfterExecuting { count }
            | Fault::SlowAnswer { count, .. }
            | Fault::ProvisioningFailure { count } => *count,
        }
    }

    fn with_count(&self, count: usize) -> Fault {
        let mut copy = self.clone();
        match &mut copy {
            Fault::Throttle { count: c, .. }
            | Fault::ServerError { count: c, .. }
            | Fault::NotJson { count: c }
            | Fault::Truncated { count: c }
            | Fault::Latency { count: c, .. }
            | Fault::ResetBeforeExecuting { count: c }
            | Fault::ResetAfterExecuting { count: c }
            | Fault::SlowAnswer { count: c, .. }
            | Fault::ProvisioningFailure { count: c } => *c = count,
        }
        copy
    }

    /// The kind of this fault, as the plan and the counters name it.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Throttle { .. } => FaultKind::Throttle,
            Fault::ServerError { .. } => FaultKind::ServerError,
            Fault::NotJson { .. } => FaultKind::NotJson,
            Fault::Truncated { .. } => FaultKind::Truncated,
            Fault::Latency { .. } => FaultKind::Latency,
            Fault::ResetBeforeExecuting { .. } => FaultKind::ResetBeforeExecuting,
            Fault::ResetAfterExecuting { .. } => FaultKind::ResetAfterExecuting,
            Fault::SlowAnswer { .. } => FaultKind::SlowAnswer,
            Fault::ProvisioningFailure { .. } => FaultKind::ProvisioningFailure,
        }
    }
}

/// The kinds of fault, without their parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    Latency,
    Throttle,
    ServerError,
    ResetBeforeExecuting,
    ResetAfterExecuting,
    NotJson,
    Truncated,
    SlowAnswer,
    ProvisioningFailure,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::Latency,
        FaultKind::Throttle,
        FaultKind::ServerError,
        FaultKind::ResetBeforeExecuting,
        FaultKind::ResetAfterExecuting,
        FaultKind::NotJson,
        FaultKind::Truncated,
        FaultKind::SlowAnswer,
        FaultKind::ProvisioningFailure,
    ];

    /// The name used on the command line (`--fault-kinds`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Throttle => "throttle",
            FaultKind::ServerError => "server-error",
            FaultKind::ResetBeforeExecuting => "reset-before",
            FaultKind::ResetAfterExecuting => "reset-after",
            FaultKind::NotJson => "not-json",
            FaultKind::Truncated => "truncated",
            FaultKind::SlowAnswer => "slow-answer",
            FaultKind::ProvisioningFailure => "provisioning-failure",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether this kind can be inflicted on a request of this class.
    pub fn applies_to(self, class: RequestClass) -> bool {
        match self {
            FaultKind::ProvisioningFailure => {
                matches!(class, RequestClass::Create | RequestClass::Power)
            }
            _ => true,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an ARM request does, for choosing which requests a plan disturbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestClass {
    /// `PUT …/computes/{name}` (create, or update of an existing compute).
    Create,
    /// `PATCH …/computes/{name}`.
    Update,
    /// `DELETE …/computes/{name}`.
    Delete,
    /// `POST …/computes/{name}/start|stop|restart`.
    Power,
    /// `GET` of the compute list or of one compute.
    Read,
    /// `GET` of a long-running operation's status or result URL.
    Poll,
    /// Everything else: the region's VM sizes and usages, the other providers' lists, listNodes.
    Other,
}

impl RequestClass {
    pub const ALL: [RequestClass; 7] = [
        RequestClass::Create,
        RequestClass::Update,
        RequestClass::Delete,
        RequestClass::Power,
        RequestClass::Read,
        RequestClass::Poll,
        RequestClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestClass::Create => "create",
            RequestClass::Update => "update",
            RequestClass::Delete => "delete",
            RequestClass::Power => "power",
            RequestClass::Read => "read",
            RequestClass::Poll => "poll",
            RequestClass::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }

    /// The class of a request, from its method and path (ARM paths are case-insensitive).
    pub fn of(method: &str, path: &str) -> Self {
        let lower = path.to_ascii_lowercase();
        let segments: Vec<&str> = lower.split('/').filter(|s| !s.is_empty()).collect();
        let computes = segments.iter().position(|s| *s == "computes");
        let after = computes.map_or(0, |i| segments.len() - i - 1);
        let method = method.to_ascii_uppercase();
        let location_op = segments
            .iter()
            .any(|s| *s == "computeoperationsstatus" || *s == "computeoperationsresult");
        match (method.as_str(), after) {
            _ if location_op => RequestClass::Poll,
            ("GET", 0 | 1) if computes.is_some() => RequestClass::Read,
            ("PUT", 1) => RequestClass::Create,
            ("PATCH", 1) => RequestClass::Update,
            ("DELETE", 1) => RequestClass::Delete,
            ("POST", 2)
                if matches!(segments.last().copied(), Some("start" | "stop" | "restart")) =>
            {
                RequestClass::Power
            }
            _ => RequestClass::Other,
        }
    }

    /// Whether a request of this class changes something.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            RequestClass::Create
                | RequestClass::Update
                | RequestClass::Delete
                | RequestClass::Power
        )
    }
}

/// A seeded random share of faults over the ARM requests.
///
/// Whether a request is disturbed, and how, is a function of the seed, the request's method and
/// path, and how many requests with that method and path came before it: the same seed gives
/// the same faults to the same workload, even when requests on different computes interleave
/// differently from one run to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Share of the requests disturbed, from 0 to 1.
    pub rate: f64,
    pub seed: u64,
    /// The kinds to choose from: a disturbed request gets one of those that apply to it, each
    /// entry equally likely (so a kind named twice is drawn twice as often).
    pub kinds: Vec<FaultKind>,
    /// The classes of request the plan disturbs.
    pub classes: Vec<RequestClass>,
    /// The wait of a `Latency` or `SlowAnswer` fault.
    pub latency: Duration,
    /// The `Retry-After` of a `Throttle` fault, in seconds.
    pub retry_after_secs: u64,
}

impl FaultPlan {
    /// Every kind, on every class of request, at `rate`.
    pub fn new(rate: f64, seed: u64) -> Self {
        FaultPlan {
            rate,
            seed,
            kinds: FaultKind::ALL.to_vec(),
            classes: RequestClass::ALL.to_vec(),
            latency: Duration::from_millis(200),
            retry_after_secs: 1,
        }
    }

    pub fn with_kinds(mut self, kinds: &[FaultKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    pub fn with_classes(mut self, classes: &[RequestClass]) -> Self {
        self.classes = classes.to_vec();
        self
    }

    /// Checks the plan: a rate within 0..=1 and at least one kind and class.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) || self.rate.is_nan() {
            return Err(format!(
                "the fault rate must be between 0 and 1 (0.2 is one request in five), not {}",
                self.rate
            ));
        }
        if self.kinds.is_empty() {
            return Err("a fault plan needs at least one kind of fault".into());
        }
        if self.classes.is_empty() {
            return Err("a fault plan needs at least one class of request".into());
        }
        Ok(())
    }

    /// The fault for the `occurrence`-th request (from 0) with this method and path, if any.
    pub fn draw(&self, method: &str, path: &str, occurrence: u64) -> Option<Fault> {
        let class = RequestClass::of(method, path);
        if !self.classes.contains(&class) {
            return None;
        }
        let applicable: Vec<FaultKind> = self
            .kinds
            .iter()
            .copied()
            .filter(|k| k.applies_to(class))
            .collect();
        if applicable.is_empty() {
            return None;
        }
        let key = format!(
            "{} {}",
            method.to_ascii_uppercase(),
            path.to_ascii_lowercase()
        );
        let roll = mix(self.seed, &key, occurrence);
        // The top 53 bits as a uniform number in [0, 1).
        let uniform = (roll >> 11) as f64 / (1u64 << 53) as f64;
        if uniform >= self.rate {
            return None;
        }
        let pick = mix(roll, "kind", occurrence) % applicable.len() as u64;
        Some(self.fault_of(applicable[pick as usize], roll))
    }

    fn fault_of(&self, kind: FaultKind, roll: u64) -> Fault {
        match kind {
            FaultKind::Latency => Fault::Latency {
                count: 1,
                delay: self.latency,
            },
            FaultKind::Throttle => Fault::Throttle {
                count: 1,
                retry_after_secs: self.retry_after_secs,
            },
            FaultKind::ServerError => Fault::ServerError {
                count: 1,
                status: [500, 502, 503, 504][(roll % 4) as usize],
            },
            FaultKind::ResetBeforeExecuting => Fault::ResetBeforeExecuting { count: 1 },
            FaultKind::ResetAfterExecuting => Fault::ResetAfterExecuting { count: 1 },
            FaultKind::NotJson => Fault::NotJson { count: 1 },
            FaultKind::Truncated => Fault::Truncated { count: 1 },
            FaultKind::SlowAnswer => Fault::SlowAnswer {
                count: 1,
                delay: self.latency,
            },
            FaultKind::ProvisioningFailure => Fault::ProvisioningFailure { count: 1 },
        }
    }
}

/// A well-spread 64-bit hash of (seed, key, n): FNV-1a over the key, finished with splitmix64.
fn mix(seed: u64, key: &str, n: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(hash ^ splitmix64(n.wrapping_add(seed)))
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Parses `--fault-kinds`: a comma-separated list of kind names, or `all`.
pub fn parse_kinds(list: &str) -> Result<Vec<FaultKind>, String> {
    parse_list(
        list,
        FaultKind::ALL.as_slice(),
        FaultKind::parse,
        FaultKind::as_str,
        "fault kind",
    )
}

/// Parses `--fault-operations`: a comma-separated list of request classes, or `all`.
pub fn parse_classes(list: &str) -> Result<Vec<RequestClass>, String> {
    parse_list(
        list,
        RequestClass::ALL.as_slice(),
        RequestClass::parse,
        RequestClass::as_str,
        "class of request",
    )
}

fn parse_list<T: Copy + PartialEq>(
    list: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<Vec<T>, String> {
    if list.trim().eq_ignore_ascii_case("all") {
        return Ok(all.to_vec());
    }
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse(item) {
            Some(value) if !out.contains(&value) => out.push(value),
            Some(_) => {}
            None => unknown.push(format!("'{item}'")),
        }
    }
    let known = all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ");
    if !unknown.is_empty() {
        return Err(format!(
            "unknown {what} {}: choose among {known}, or all",
            unknown.join(", ")
        ));
    }
    if out.is_empty() {
        return Err(format!("name at least one {what} ({known}), or all"));
    }
    Ok(out)
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

    const PATHS: [(&str, &str); 5] = [
        (
            "GET",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes",
        ),
        (
            "GET",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/ada-box",
        ),
        (
            "PUT",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/ada-box",
        ),
        (
            "POST",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/ada-box/start",
        ),
        (
            "GET",
            "/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/westeurope/computeOperationsStatus/abc",
        ),
    ];

    fn draws(plan: &FaultPlan, rounds: u64) -> Vec<Option<Fault>> {
        (0..rounds)
            .flat_map(|n| PATHS.iter().map(move |(m, p)| plan.draw(m, p, n)))
            .collect()
    }

    #[test]
    fn a_plan_is_reproducible_from_its_seed() {
        let plan = FaultPlan::new(0.3, 7);
        assert_eq!(draws(&plan, 200), draws(&plan.clone(), 200));
        let other = FaultPlan::new(0.3, 8);
        assert_ne!(
            draws(&plan, 200),
            draws(&other, 200),
            "another seed, other faults"
        );
    }

    #[test]
    fn a_plan_disturbs_about_its_rate() {
        for rate in [0.0, 0.05, 0.2, 0.5, 1.0] {
            let plan = FaultPlan::new(rate, 2026);
            let all = draws(&plan, 2000);
            let hit = all.iter().filter(|d| d.is_some()).count() as f64 / all.len() as f64;
            assert!(
                (hit - rate).abs() < 0.02,
                "rate {rate}: {hit} of the requests were disturbed"
            );
        }
    }

    #[test]
    fn a_plan_uses_only_its_kinds_and_classes() {
        let plan = FaultPlan::new(1.0, 1).with_kinds(&[FaultKind::Throttle, FaultKind::NotJson]);
        let kinds: std::collections::BTreeSet<FaultKind> = draws(&plan, 100)
            .into_iter()
            .flatten()
            .map(|f| f.kind())
            .collect();
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            [FaultKind::Throttle, FaultKind::NotJson],
            "both kinds, and only them"
        );
        // Provisioning failures exist only for creates and power actions.
        let failures = FaultPlan::new(1.0, 1).with_kinds(&[FaultKind::ProvisioningFailure]);
        let hit: Vec<RequestClass> = PATHS
            .iter()
            .filter(|(m, p)| failures.draw(m, p, 0).is_some())
            .map(|(m, p)| RequestClass::of(m, p))
            .collect();
        assert_eq!(hit, [RequestClass::Create, RequestClass::Power]);
        // Only the classes named.
        let power = FaultPlan::new(1.0, 1).with_classes(&[RequestClass::Power]);
        let hit: Vec<RequestClass> = PATHS
            .iter()
            .filter(|(m, p)| power.draw(m, p, 0).is_some())
            .map(|(m, p)| RequestClass::of(m, p))
            .collect();
        assert_eq!(hit, [RequestClass::Power]);
    }

    #[test]
    fn requests_are_classified_like_arm_routes_them() {
        let classes: Vec<RequestClass> =
            PATHS.iter().map(|(m, p)| RequestClass::of(m, p)).collect();
        assert_eq!(
            classes,
            [
                RequestClass::Read,
                RequestClass::Read,
                RequestClass::Create,
                RequestClass::Power,
                RequestClass::Poll
            ]
        );
        assert_eq!(
            RequestClass::of("DELETE", "/x/WORKSPACES/ws/Computes/a"),
            RequestClass::Delete
        );
        assert_eq!(
            RequestClass::of("POST", "/x/computes/a/listNodes"),
            RequestClass::Other
        );
        assert_eq!(
            RequestClass::of(
                "GET",
                "/subscriptions/s/providers/Microsoft.MachineLearningServices/locations/l/vmSizes"
            ),
            RequestClass::Other
        );
    }

    #[test]
    fn plans_and_lists_are_checked() {
        assert!(FaultPlan::new(1.2, 0).validate().is_err());
        assert!(FaultPlan::new(0.2, 0).with_kinds(&[]).validate().is_err());
        assert!(FaultPlan::new(0.2, 0).validate().is_ok());
        assert_eq!(parse_kinds("all").unwrap().len(), FaultKind::ALL.len());
        assert_eq!(
            parse_kinds("Throttle, reset-before").unwrap(),
            [FaultKind::Throttle, FaultKind::ResetBeforeExecuting]
        );
        let err = parse_kinds("throttle,boom").unwrap_err();
        assert!(
            err.contains("'boom'") && err.contains("provisioning-failure"),
            "{err}"
        );
        assert!(parse_classes(" , ").is_err());
    }
}
