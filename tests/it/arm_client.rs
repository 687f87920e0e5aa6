//! The ArmClient against the emulator over real HTTP: paging, long-running operations,
//! throttling and Azure's errors.

use std::time::{Duration, Instant};

use compute_studio::azure::{ArmError, LroStatus, PowerAction};
use compute_studio::emulator::{EmulatorConfig, Fault, FaultKind};

use crate::helpers::{arm_client, empty_config, instance_body, spawn_emulator};

const SIZE: &str = "Standard_DS11_v2";

async fn follow_to_end(
    arm: &compute_studio::azure::ArmClient,
    handle: &compute_studio::azure::LroHandle,
) -> LroStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match arm.poll(handle).await.expect("the status can be read") {
            LroStatus::InProgress { .. } if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => return other,
        }
    }
}

#[tokio::test]
async fn listing_follows_next_link_over_every_page() {
    let mut config = empty_config();
    config.page_size = 2;
    let emulator = spawn_emulator(config).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    for name in [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    ] {
        arm.create_or_update(name, &instance_body(&location, SIZE))
            .await
            .expect("created");
    }

    let listing = arm.list_computes().await.expect("listed");

    let mut names: Vec<_> = listing
        .computes
        .iter()
        .filter_map(|c| c.name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"
        ]
    );
    assert!(listing.unreadable.is_empty());
    assert_eq!(
        emulator.emulator.request_count("GET", "/computes"),
        4,
        "7 computes at 2 a page is 4 pages"
    );
}

#[tokio::test]
async fn a_create_is_followed_to_success() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();

    let accepted = arm
        .create_or_update("ada-box", &instance_body(&location, SIZE))
        .await
        .expect("accepted");

    let handle = accepted.operation.expect("a create is long-running");
    assert!(matches!(
        follow_to_end(&arm, &handle).await,
        LroStatus::Succeeded
    ));
    let compute = arm.get_compute("ada-box").await.unwrap().expect("exists");
    assert_eq!(compute.inner_str("state"), Some("Running"));
    assert_eq!(compute.provisioning_state(), Some("Succeeded"));
}

#[tokio::test]
async fn a_create_that_azure_fails_reports_azures_error() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    let failing = EmulatorConfig::for_tests().failing_vm_sizes[0].clone();

    let accepted = arm
        .create_or_update("doomed", &instance_body(&location, &failing))
        .await
        .expect("accepted");

    let handle = accepted.operation.expect("long-running");
    match follow_to_end(&arm, &handle).await {
        LroStatus::Failed(ArmError::OperationFailed { code, message }) => {
            assert!(!code.is_empty() && !message.is_empty(), "{code}: {message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let compute = arm
        .get_compute("doomed")
        .await
        .unwrap()
        .expect("a failed compute stays listed");
    assert_eq!(compute.inner_str("state"), Some("CreateFailed"));
}

#[tokio::test]
async fn throttling_is_retried_after_the_time_azure_asks() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    emulator.emulator.inject(Fault::Throttle {
        count: 1,
        retry_after_secs: 1,
    });
    let started = Instant::now();

    let listing = arm.list_computes().await.expect("succeeds after the retry");

    assert!(listing.computes.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(emulator.emulator.request_count("GET", "/computes"), 2);
}

#[tokio::test]
async fn retries_are_bounded() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    emulator.emulator.inject(Fault::ServerError {
        count: 50,
        status: 503,
    });

    let error = arm.list_computes().await.expect_err("gives up");

    assert!(
        matches!(error, ArmError::RetriesExhausted { attempts: 4, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_name_conflict_carries_azures_message() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    arm.create_or_update("shared-name", &instance_body(&location, SIZE))
        .await
        .expect("first");

    let error = arm
        .create_or_update("Shared-Name", &instance_body(&location, SIZE))
        .await
        .expect_err("names are unique, whatever their case");

    match error {
        ArmError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(status, 409);
            assert_eq!(code, "Conflict");
            assert!(message.contains("already exists"), "{message}");
        }
        other => panic!("expected Azure's conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_a_decode_error() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    emulator.emulator.inject(Fault::NotJson { count: 1 });
    assert!(matches!(
        arm.list_computes().await,
        Err(ArmError::Decode { .. })
    ));
    emulator.emulator.inject(Fault::Truncated { count: 1 });
    assert!(matches!(
        arm.list_computes().await,
        Err(ArmError::Decode { .. })
    ));
}

#[tokio::test]
async fn power_actions_run_and_wrong_states_are_refused() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    let created = arm
        .create_or_update("grace-box", &instance_body(&location, SIZE))
        .await
        .unwrap();
    follow_to_end(&arm, &created.operation.unwrap()).await;

    let refused = arm
        .power("grace-box", PowerAction::Start)
        .await
        .expect_err("already running");
    assert_eq!(refused.status(), Some(409));

    let stop = arm
        .power("grace-box", PowerAction::Stop)
        .await
        .unwrap()
        .expect("long-running");
    assert!(matches!(
        follow_to_end(&arm, &stop).await,
        LroStatus::Succeeded
    ));
    let compute = arm.get_compute("grace-box").await.unwrap().unwrap();
    assert_eq!(compute.inner_str("state"), Some("Stopped"));
}

#[tokio::test]
async fn vm_sizes_and_usages_are_served() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let sizes = arm.vm_sizes().await.unwrap();
    assert!(
        sizes
            .iter()
            .any(|s| s.name == SIZE && s.v_cpus > 0 && !s.family.is_empty())
    );
    let usages = arm.usages().await.unwrap();
    assert!(!usages.is_empty());
    assert!(usages.iter().all(|u| u.current_value == 0));
}

// ----- other providers: virtual networks, user-assigned identities, AKS clusters ----------------

#[tokio::test]
async fn virtual_networks_are_read_over_every_page() {
    let mut config = empty_config();
    config.page_size = 3;
    let emulator = spawn_emulator(config).await;
    let arm = arm_client(&emulator);
    let seeded = emulator.emulator.config().virtual_networks.clone();

    let vnets = arm.virtual_networks().await.expect("listed");

    assert_eq!(vnets.len(), seeded.len());
    assert_eq!(
        emulator
            .emulator
            .request_count("GET", "/providers/Microsoft.Network/virtualNetworks"),
        2,
        "4 networks at 3 a page is 2 pages"
    );
    for seed in &seeded {
        let vnet = vnets
            .iter()
            .find(|v| v.name == seed.name)
            .expect("every seeded network");
        assert_eq!(vnet.location, seed.location);
        assert_eq!(vnet.resource_group(), Some(seed.resource_group.as_str()));
        assert_eq!(vnet.address_prefixes, seed.address_prefixes);
        let subnets: Vec<(&str, Option<&str>)> = vnet
            .subnets
            .iter()
            .map(|s| (s.name.as_str(), s.address_prefix.as_deref()))
            .collect();
        let expected: Vec<(&str, Option<&str>)> = seed
            .subnets
            .iter()
            .map(|s| (s.name.as_str(), Some(s.address_prefix.as_str())))
            .collect();
        assert_eq!(subnets, expected, "{}", seed.name);
        assert!(vnet.subnets.iter().all(|s| s.id.starts_with(&vnet.id)));
    }
}

#[tokio::test]
async fn identities_and_aks_clusters_are_read() {
    let mut config = empty_config();
    config.page_size = 1;
    let emulator = spawn_emulator(config).await;
    let arm = arm_client(&emulator);
    let c = emulator.emulator.config().clone();

    let identities = arm.user_assigned_identities().await.expect("listed");
    assert_eq!(identities.len(), c.user_assigned_identities.len());
    for (identity, seed) in identities.iter().zip(&c.user_assigned_identities) {
        assert_eq!(identity.id, seed.id(&c.subscription_id));
        assert_eq!(
            identity.resource_group(),
            Some(seed.resource_group.as_str())
        );
        assert_eq!(
            identity.principal_id.as_deref(),
            Some(seed.principal_id.as_str())
        );
        assert_eq!(identity.client_id.as_deref(), Some(seed.client_id.as_str()));
        assert_eq!(identity.tenant_id.as_deref(), Some(c.tenant_id.as_str()));
    }

    let clusters = arm.managed_clusters().await.expect("listed");
    assert_eq!(clusters.len(), c.managed_clusters.len());
    for (cluster, seed) in clusters.iter().zip(&c.managed_clusters) {
        assert_eq!(cluster.name, seed.name);
        assert_eq!(cluster.location, seed.location);
        assert_eq!(cluster.resource_group(), Some(seed.resource_group.as_str()));
        assert_eq!(
            cluster.node_count,
            seed.agent_pools.iter().map(|p| p.count).sum::<i64>()
        );
        assert_eq!(cluster.vm_size.as_deref(), Some("Standard_D4s_v3"));
        assert_eq!(cluster.kubernetes_version.as_deref(), Some("1.30.6"));
        assert_eq!(
            cluster.power_state.as_deref(),
            Some(seed.power_state.as_str())
        );
        assert!(
            cluster
                .fqdn
                .as_deref()
                .is_some_and(|f| f.ends_with(".azmk8s.io"))
        );
    }
    assert!(
        clusters.iter().any(|k| k.node_count == 5),
        "a cluster with two pools adds their nodes"
    );
}

#[tokio::test]
async fn provider_lists_are_retried_after_throttling() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let path = "/providers/Microsoft.ContainerService/managedClusters";
    emulator.emulator.inject(Fault::Throttle {
        count: 1,
        retry_after_secs: 1,
    });
    let started = Instant::now();

    let clusters = arm
        .managed_clusters()
        .await
        .expect("succeeds after the retry");

    assert_eq!(clusters.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(emulator.emulator.request_count("GET", path), 2);

    emulator.emulator.inject(Fault::ServerError {
        count: 1,
        status: 502,
    });
    let vnets = arm.virtual_networks().await.expect("a 502 is retried too");
    assert_eq!(vnets.len(), 4);
    emulator.emulator.inject(Fault::NotJson { count: 1 });
    assert!(matches!(
        arm.user_assigned_identities().await,
        Err(ArmError::Decode { .. })
    ));
}

// ----- injected faults: resets and provisioning failures ----------------------------------------

async fn running_instance(arm: &compute_studio::azure::ArmClient, name: &str, location: &str) {
    let created = arm
        .create_or_update(name, &instance_body(location, SIZE))
        .await
        .unwrap();
    follow_to_end(arm, &created.operation.unwrap()).await;
}

#[tokio::test]
async fn a_reset_connection_is_a_transport_error_whether_or_not_azure_acted() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    running_instance(&arm, "reset-box", &location).await;
    let stops = |emulator: &compute_studio::emulator::Emulator| {
        emulator
            .executed_operations()
            .iter()
            .filter(|e| e.compute == "reset-box" && e.action == "stop")
            .count()
    };

    emulator
        .emulator
        .inject(Fault::ResetBeforeExecuting { count: 1 });
    let lost = arm.power("reset-box", PowerAction::Stop).await;
    assert!(matches!(lost, Err(ArmError::Transport(_))), "{lost:?}");
    assert_eq!(stops(&emulator.emulator), 0, "not carried out");

    emulator
        .emulator
        .inject(Fault::ResetAfterExecuting { count: 1 });
    let lost = arm.power("reset-box", PowerAction::Stop).await;
    assert!(matches!(lost, Err(ArmError::Transport(_))), "{lost:?}");
    assert_eq!(stops(&emulator.emulator), 1, "carried out, answer lost");

    // A read is simply tried again.
    emulator
        .emulator
        .inject(Fault::ResetAfterExecuting { count: 1 });
    assert!(arm.get_compute("reset-box").await.unwrap().is_some());
    let counts = emulator.emulator.fault_counts();
    assert_eq!(counts[&FaultKind::ResetBeforeExecuting], 1);
    assert_eq!(counts[&FaultKind::ResetAfterExecuting], 2);
}

#[tokio::test]
async fn provisioning_failures_leave_the_compute_where_azure_does() {
    let emulator = spawn_emulator(empty_config()).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    running_instance(&arm, "fail-box", &location).await;

    // restart fails: still running; stop fails: still running; then a failed start stays stopped.
    for (action, stays, status) in [
        (PowerAction::Restart, "Running", "RestartFailed"),
        (PowerAction::Stop, "Running", "StopFailed"),
    ] {
        emulator
            .emulator
            .inject(Fault::ProvisioningFailure { count: 1 });
        let handle = arm.power("fail-box", action).await.unwrap().unwrap();
        match follow_to_end(&arm, &handle).await {
            LroStatus::Failed(ArmError::OperationFailed { message, .. }) => {
                assert!(message.contains("fail-box"), "{message}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        let compute = arm.get_compute("fail-box").await.unwrap().unwrap();
        assert_eq!(compute.inner_str("state"), Some(stays));
        assert_eq!(compute.provisioning_state(), Some("Succeeded"));
        assert_eq!(
            compute.inner("lastOperation").unwrap()["operationStatus"],
            status
        );
    }
    let stop = arm.power("fail-box", PowerAction::Stop).await.unwrap();
    follow_to_end(&arm, &stop.unwrap()).await;
    emulator
        .emulator
        .inject(Fault::ProvisioningFailure { count: 1 });
    let start = arm.power("fail-box", PowerAction::Start).await.unwrap();
    assert!(matches!(
        follow_to_end(&arm, &start.unwrap()).await,
        LroStatus::Failed(ArmError::OperationFailed { .. })
    ));
    let compute = arm.get_compute("fail-box").await.unwrap().unwrap();
    assert_eq!(compute.inner_str("state"), Some("Stopped"));

    // A create that fails ends Failed, with Azure's error on the compute.
    emulator
        .emulator
        .inject(Fault::ProvisioningFailure { count: 1 });
    let created = arm
        .create_or_update("doomed-box", &instance_body(&location, SIZE))
        .await
        .expect("accepted");
    assert!(matches!(
        follow_to_end(&arm, &created.operation.unwrap()).await,
        LroStatus::Failed(ArmError::OperationFailed { .. })
    ));
    let compute = arm.get_compute("doomed-box").await.unwrap().unwrap();
    assert_eq!(compute.provisioning_state(), Some("Failed"));
    assert_eq!(compute.inner_str("state"), Some("CreateFailed"));
    assert!(compute.properties.unwrap().provisioning_errors.is_some());
    assert_eq!(
        emulator.emulator.fault_counts()[&FaultKind::ProvisioningFailure],
        4
    );
}
