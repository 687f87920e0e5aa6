//! Every body Azure Resource Manager sends the client, read in one place: one function per kind
//! of body, bytes in, a typed value or an [`ArmError::Decode`] out. None of them panics, whatever
//! the bytes (`fuzz/` drives them with arbitrary input, and `tests` below feeds them the
//! committed corpus on every `cargo test`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ArmError;
use super::lro::LroStatus;
use super::models::{
    ComputeResource, ErrorResponse, ManagedCluster, OperationStatus, Page, Usage,
    UserAssignedIdentity, VirtualNetwork, VmSize, VmSizeList,
};

/// One page of the compute list: the computes that could be read, the items that could not
/// (kept out of the list and reported, so one odd compute does not hide the others), and the
/// link to the next page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComputePage {
    pub computes: Vec<ComputeResource>,
    pub unreadable: Vec<String>,
    pub next_link: Option<String>,
}

/// `GET …/computes`: a page of the compute list.
pub fn compute_page(body: &[u8]) -> Result<ComputePage, ArmError> {
    let page: Page<Value> = decode(body, "the compute list")?;
    let mut computes = Vec::new();
    let mut unreadable = Vec::new();
    for item in page.value {
        let described = describe_item(&item);
        match serde_json::from_value::<ComputeResource>(item) {
            Ok(compute) if compute.name.is_some() => computes.push(compute),
            Ok(_) => unreadable.push("a compute without a name".into()),
            Err(e) => unreadable.push(format!("{described}: {e}")),
        }
    }
    Ok(ComputePage {
        computes,
        unreadable,
        next_link: page.next_link,
    })
}

/// `GET`, `PUT` or `PATCH …/computes/{name}`: one compute.
pub fn compute(body: &[u8]) -> Result<ComputeResource, ArmError> {
    decode(body, "the compute")
}

/// `GET …/locations/{location}/vmSizes`: the VM sizes of the region (not paged).
pub fn vm_sizes(body: &[u8]) -> Result<Vec<VmSize>, ArmError> {
    decode::<VmSizeList>(body, "the VM sizes").map(|list| list.value)
}

/// `GET …/locations/{location}/usages`: a page of core usages and limits.
pub fn usages_page(body: &[u8]) -> Result<Page<Usage>, ArmError> {
    decode(body, "the usages")
}

/// `GET …/Microsoft.Network/virtualNetworks`: a page of virtual networks with their subnets.
pub fn virtual_networks_page(body: &[u8]) -> Result<Page<VirtualNetwork>, ArmError> {
    decode(body, "the virtual networks")
}

/// `GET …/Microsoft.ManagedIdentity/userAssignedIdentities`: a page of identities.
pub fn identities_page(body: &[u8]) -> Result<Page<UserAssignedIdentity>, ArmError> {
    decode(body, "the user-assigned identities")
}

/// `GET …/Microsoft.ContainerService/managedClusters`: a page of AKS clusters.
pub fn managed_clusters_page(body: &[u8]) -> Result<Page<ManagedCluster>, ArmError> {
    decode(body, "the AKS clusters")
}

/// The body behind an `Azure-AsyncOperation` URL, as what it says of the operation.
/// `retry_after` is the answer's `Retry-After`, kept for an operation still running.
pub fn operation_status(body: &[u8], retry_after: Option<Duration>) -> Result<LroStatus, ArmError> {
    let status: OperationStatus = decode(body, "the operation status")?;
    Ok(match status.status.as_str() {
        "Succeeded" => LroStatus::Succeeded,
        "Failed" | "Canceled" => {
            let error = status.error.unwrap_or_default();
            LroStatus::Failed(ArmError::OperationFailed {
                code: if error.code.is_empty() {
                    status.status.clone()
                } else {
                    error.code
                },
                message: error.message,
            })
        }
        _ => LroStatus::InProgress { retry_after },
    })
}

/// The error Azure answered with `status`: its own code and message when the body is ARM's error
/// envelope, else the status in words. Never fails: any body is some error.
pub fn error_body(status: u16, body: &[u8]) -> ArmError {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(envelope) if !envelope.error.code.is_empty() || !envelope.error.message.is_empty() => {
            ArmError::from_detail(status, envelope.error)
        }
        _ => {
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason());
            ArmError::Api {
                status,
                code: reason.unwrap_or("Error").replace(' ', ""),
                message: match reason {
                    Some(reason) => format!(
                        "Azure answered HTTP {status} {reason} without an error description."
                    ),
                    None => format!("Azure answered HTTP {status} without an error description."),
                },
                target: None,
            }
        }
    }
}

/// Any JSON body into `T`, with what was being read named in the error.
fn decode<T: DeserializeOwned>(body: &[u8], context: &str) -> Result<T, ArmError> {
    serde_json::from_slice(body).map_err(|e| ArmError::Decode {
        context: context.to_string(),
        detail: if body.is_empty() {
            "the body is empty".to_string()
        } else {
            e.to_string()
        },
    })
}

fn describe_item(item: &Value) -> String {
    item.get("name")
        .and_then(Value::as_str)
        .map(|n| format!("compute '{}'", crate::domain::scale::shorten(n)))
        .unwrap_or_else(|| "an unnamed item".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compute_page_keeps_the_readable_items_and_reports_the_others() {
        let page = compute_page(
            br#"{"value":[{"name":"ok","properties":{"computeType":"AmlCompute"}},
                          {"properties":{}},
                          {"name":"odd","properties":"not an object"}],
                 "nextLink":"https://management.azure.com/next"}"#,
        )
        .unwrap();
        assert_eq!(page.computes.len(), 1);
        assert_eq!(page.unreadable[0], "a compute without a name", "{page:?}");
        assert!(
            page.unreadable[1].starts_with("compute 'odd': "),
            "{page:?}"
        );
        assert_eq!(
            page.next_link.as_deref(),
            Some("https://management.azure.com/next")
        );
    }

    #[test]
    fn every_parser_refuses_junk_with_what_it_was_reading() {
        for (body, context) in [(&b""[..], "the body is empty"), (b"{", "EOF"), (b"[1]", "")] {
            for result in [
                compute_page(body).map(|_| ()),
                compute(body).map(|_| ()),
                vm_sizes(body).map(|_| ()),
                usages_page(body).map(|_| ()),
                virtual_networks_page(body).map(|_| ()),
                identities_page(body).map(|_| ()),
                managed_clusters_page(body).map(|_| ()),
                operation_status(body, None).map(|_| ()),
            ] {
                let error = result.unwrap_err();
                assert!(
                    matches!(&error, ArmError::Decode { detail, .. } if detail.contains(context)),
                    "{error:?}"
                );
            }
        }
    }

    #[test]
    fn an_operation_status_says_how_the_operation_stands() {
        let retry = Some(Duration::from_secs(3));
        assert!(matches!(
            operation_status(br#"{"status":"InProgress"}"#, retry).unwrap(),
            LroStatus::InProgress { retry_after } if retry_after == retry
        ));
        assert!(matches!(
            operation_status(br#"{"status":"Succeeded"}"#, None).unwrap(),
            LroStatus::Succeeded
        ));
        let LroStatus::Failed(failed) =
            operation_status(br#"{"status":"Canceled"}"#, None).unwrap()
        else {
            panic!("a canceled operation failed");
        };
        assert_eq!(
            failed.code(),
            "Canceled",
            "no error body: the status is the code"
        );
    }

    #[test]
    fn an_error_body_gives_azure_s_words_or_the_status() {
        let e = error_body(
            409,
            br#"{"error":{"code":"Conflict","message":"It exists.","target":"name"}}"#,
        );
        assert_eq!((e.status(), e.code()), (Some(409), "Conflict".to_string()));
        assert_eq!(e.user_message(), "It exists.");
        for junk in [&b""[..], b"<html>", br#"{"error":{}}"#, b"\xff\xfe"] {
            let e = error_body(503, junk);
            assert_eq!(e.code(), "ServiceUnavailable");
        }
        assert_eq!(error_body(599, b"").code(), "Error");
    }

    /// Every file of the fuzz corpus (fuzz/corpus/*/): CI exercises the corpus, crashes found
    /// by the fuzzer included, without a nightly toolchain.
    #[test]
    fn the_fuzz_corpus_parses_without_panicking() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut files = 0;
        for target in std::fs::read_dir(&root).expect("fuzz/corpus exists") {
            for file in std::fs::read_dir(target.unwrap().path()).unwrap() {
                let bytes = std::fs::read(file.unwrap().path()).unwrap();
                every_parser(&bytes);
                files += 1;
            }
        }
        assert!(files >= 10, "the corpus has {files} files");
    }

    /// What the fuzz targets do, in-process (see fuzz/fuzz_targets/).
    pub fn every_parser(bytes: &[u8]) {
        use crate::domain::inference::{ClusterPurpose, check_capacity};
        use crate::domain::quota::{Headroom, UsageLine};

        if let Ok(page) = compute_page(bytes) {
            for compute in &page.computes {
                let _ = crate::sync::record_from_resource(compute);
            }
        }
        if let Ok(compute) = compute(bytes) {
            let _ = crate::sync::record_from_resource(&compute);
        }
        let sizes = vm_sizes(bytes).unwrap_or_default();
        let headroom = Headroom::new(usages_page(bytes).into_iter().flat_map(|page| {
            page.value.into_iter().map(|u| UsageLine {
                name: u.name.value,
                current: u.current_value,
                limit: u.limit,
            })
        }));
        for size in &sizes {
            let _ = headroom
                .check(&size.family, size.v_cpus)
                .map_err(|s| s.message());
            let _ = headroom.remaining(&size.family);
        }
        let _ = virtual_networks_page(bytes);
        let _ = identities_page(bytes);
        for cluster in managed_clusters_page(bytes)
            .map(|p| p.value)
            .unwrap_or_default()
        {
            for vcpus in sizes.iter().map(|s| s.v_cpus).chain([0, 4]) {
                let _ = check_capacity(ClusterPurpose::Production, cluster.node_count, vcpus);
            }
        }
        let _ = operation_status(bytes, None);
        let status = bytes.first().map_or(400, |b| 400 + u16::from(*b));
        let _ = error_body(status, bytes);
    }
}
