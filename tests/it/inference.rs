//! Inference clusters through the form: a new AKS cluster and an existing one, each rule's edge
//! beside its field, the live vCPU line, and Azure's answer on the list.

use std::time::Duration;

use crate::helpers::{
    TestApp, arm_client, certificate, demo_app, eventually, field_value, hidden_fields,
    inference_fields, new_form_token, post, valid_certificate, with,
};

async fn carried_create(app: &TestApp, review: &str) -> (u16, String, String) {
    let mut carried = hidden_fields(review);
    carried.push(("step".into(), "create".into()));
    let carried: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post(app, "/computes/new", &carried).await
}

#[tokio::test]
async fn a_new_inference_cluster_is_reviewed_created_and_listed_on_its_tab() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let (_, list) = app.get_text("/computes?tab=inference").await;
    assert!(
        list.contains("href=\"/computes/new?kind=inference\""),
        "+ New on the tab"
    );
    let (status, form) = app.get_text("/computes/new?kind=inference").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("ml-inference-aks"),
        "the subscription's AKS clusters"
    );
    assert!(
        form.contains("3 nodes × 4 vCPUs = 12 vCPUs: enough for production."),
        "the live line, from the start"
    );
    let token = field_value(&form, "form_token");
    let config = emulator.emulator.config();
    let subnet = config.virtual_networks[1].subnet_id(&config.subscription_id, "aks-nodes");
    let fields = with(
        inference_fields(&token, "scoring-prod", "review"),
        &[
            ("network", "advanced"),
            ("subnet", &subnet),
            ("ssl", "microsoft"),
            ("ssl_leaf_label", "scoring"),
            ("load_balancer", "internal"),
            ("lb_subnet", "scoring"),
        ],
    );
    let (status, _, review) = post(&app, "/computes/new", &fields).await;
    assert_eq!(status, 200, "{review}");
    assert!(review.contains("Review scoring-prod"));
    assert!(review.contains("A new AKS cluster"));
    assert!(
        review.contains("&#34;InternalLoadBalancer&#34;")
            || review.contains("&quot;InternalLoadBalancer&quot;"),
        "{review}"
    );
    let (status, to, body) = carried_create(&app, &review).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/computes?tab=inference"),
        "{body}"
    );
    let arm = arm_client(&emulator);
    eventually(
        Duration::from_secs(10),
        "the cluster is provisioned",
        || {
            let arm = arm.clone();
            async move {
                arm.get_compute("scoring-prod")
                    .await
                    .unwrap()
                    .and_then(|c| c.provisioning_state().map(str::to_string))
                    .as_deref()
                    == Some("Succeeded")
            }
        },
    )
    .await;
    let created = arm.get_compute("scoring-prod").await.unwrap().unwrap();
    assert_eq!(created.inner_str("agentVmSize"), Some("Standard_D4s_v3"));
    assert_eq!(created.inner_str("loadBalancerSubnet"), Some("scoring"));
    let (_, list) = app.get_text("/computes?tab=inference").await;
    assert!(list.contains("data-name=\"scoring-prod\""), "{list}");
    app.stop().await;
}

#[tokio::test]
async fn an_existing_aks_cluster_is_attached_and_can_be_detached() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let token = new_form_token(&app, "inference").await;
    let config = emulator.emulator.config();
    let aks = config
        .managed_clusters
        .iter()
        .find(|c| c.name == "ml-inference-aks")
        .unwrap()
        .id(&config.subscription_id);
    let fields = with(
        inference_fields(&token, "aks", "create"),
        &[("source", "existing"), ("existing_cluster", &aks)],
    );
    let (status, to, body) = post(&app, "/computes/new", &fields).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/computes?tab=inference"),
        "{body}"
    );
    let arm = arm_client(&emulator);
    let attached = arm.get_compute("aks").await.unwrap().unwrap();
    assert_eq!(
        attached.properties.as_ref().unwrap().is_attached_compute,
        Some(true)
    );
    eventually(
        Duration::from_secs(10),
        "the cache sees it attached",
        || {
            let db = app.sync.db().clone();
            async move {
                compute_studio::store::computes::get_row(&db, "aks")
                    .await
                    .unwrap()
                    .is_some_and(|r| r.state == "Succeeded")
            }
        },
    )
    .await;
    let (status, confirm) = app.get_text("/computes/aks/detach").await;
    assert_eq!(status, 200);
    assert!(
        confirm.contains("the AKS cluster stays in the subscription"),
        "{confirm}"
    );
    let (_, delete_page) = app.get_text("/computes/aks/delete").await;
    assert!(delete_page.contains("deletes the AKS cluster itself"));
    let (status, _, _) = post(&app, "/computes/aks/detach", &[("confirm_name", "aks")]).await;
    assert_eq!(status, 303);
    eventually(Duration::from_secs(10), "detached", || {
        let arm = arm.clone();
        async move { arm.get_compute("aks").await.unwrap().is_none() }
    })
    .await;
    let clusters = arm.managed_clusters().await.unwrap();
    assert!(
        clusters.iter().any(|c| c.id.eq_ignore_ascii_case(&aks)),
        "the AKS cluster stays"
    );
    app.stop().await;
}

/// Each rule at its edge, beside its field, with every value kept (the key only sealed).
#[tokio::test]
async fn each_inference_rule_is_said_beside_its_field() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let token = new_form_token(&app, "inference").await;
    let refused = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let token = token.clone();
        async move {
            let owned: Vec<(&str, String)> = fields;
            let mut all = inference_fields(&token, "edge", "review");
            for (k, v) in &owned {
                all.retain(|(key, _)| key != k);
                all.push((k, v.as_str()));
            }
            let (status, _, page) = post(app, "/computes/new", &all).await;
            (status, page)
        }
    };
    let ok = |page: &str| page.contains("Nothing has been sent to Azure yet");
    // Names: 2 and 16 pass, 1 and 17 do not.
    for (name, fine) in [
        ("a", false),
        ("ab", true),
        ("abcdefghijklmnop", true),
        ("abcdefghijklmnopq", false),
    ] {
        let (status, page) = refused(vec![("name", name.to_string())]).await;
        assert_eq!(ok(&page), fine, "{name}: {status}");
        if !fine {
            assert!(page.contains("between 2 and 16 characters"), "{page}");
        }
    }
    // The 12-vCPU rule: 2 × 4 is refused for production, fine for dev-test; 3 × 4 is enough.
    let (status, page) = refused(vec![("nodes", "2".into())]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains(
            "id=\"error-nodes\" role=\"alert\">A production cluster needs at least 12 vCPUs"
        ),
        "{page}"
    );
    assert!(page.contains("2 nodes × 4 vCPUs = 8 vCPUs: production needs at least 12."));
    assert_eq!(field_value(&page, "nodes"), "2", "values are kept");
    let (_, page) = refused(vec![("nodes", "2".into()), ("purpose", "devtest".into())]).await;
    assert!(ok(&page), "dev-test may be small");
    // Overlapping ranges against the subnet's network (10.1.0.0/16).
    let config = emulator.emulator.config();
    let subnet = config.virtual_networks[1].subnet_id(&config.subscription_id, "aks-nodes");
    let (_, page) = refused(vec![
        ("network", "advanced".into()),
        ("subnet", subnet.clone()),
        ("service_cidr", "10.1.0.0/16".into()),
        ("dns_service_ip", "10.2.0.10".into()),
    ])
    .await;
    assert!(page.contains("id=\"error-service_cidr\" role=\"alert\">The Kubernetes service address range 10.1.0.0/16 overlaps"), "{page}");
    let (_, page) = refused(vec![
        ("network", "advanced".into()),
        ("subnet", subnet),
        ("dns_service_ip", "10.2.0.10".into()),
    ])
    .await;
    assert!(page.contains("id=\"error-dns_service_ip\" role=\"alert\">The DNS service IP address 10.2.0.10 must be inside"), "{page}");
    // SSL: an expired certificate with its date; a key of another certificate.
    let (cert, key) = certificate(
        &["scoring.contoso.com"],
        time::macros::datetime!(2024-01-01 0:00 UTC),
        time::macros::datetime!(2025-06-30 0:00 UTC),
    );
    let (_, page) = refused(vec![
        ("ssl", "custom".into()),
        ("ssl_cert", cert),
        ("ssl_key", key.clone()),
        ("ssl_cname", "scoring.contoso.com".into()),
    ])
    .await;
    assert!(
        page.contains("The certificate expired on 2025-06-30"),
        "{page}"
    );
    let (cert, _) = valid_certificate(&["scoring.contoso.com"]);
    let (_, page) = refused(vec![
        ("ssl", "custom".into()),
        ("ssl_cert", cert.clone()),
        ("ssl_key", key.clone()),
        ("ssl_cname", "scoring.contoso.com".into()),
    ])
    .await;
    assert!(
        page.contains(
            "id=\"error-ssl_key\" role=\"alert\">The private key does not match the certificate"
        ),
        "{page}"
    );
    let key_body = key.lines().nth(1).unwrap();
    assert!(
        !page.contains(key_body),
        "a key is never written into a page"
    );
    // A good pair with a name it does not cover: the key is kept, sealed.
    let (cert, key) = valid_certificate(&["scoring.contoso.com"]);
    let (_, page) = refused(vec![
        ("ssl", "custom".into()),
        ("ssl_cert", cert),
        ("ssl_key", key.clone()),
        ("ssl_cname", "other.contoso.com".into()),
    ])
    .await;
    assert!(page.contains("not for other.contoso.com"), "{page}");
    assert!(page.contains("name=\"ssl_key_sealed\""));
    assert!(!page.contains(key.lines().nth(1).unwrap()));
    app.stop().await;
}

#[tokio::test]
async fn the_vcpu_line_follows_nodes_and_size_as_they_change() {
    let (_emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let csrf = app.csrf_token().await;
    let check = |nodes: &'static str, size: &'static str, field: &'static str| {
        let app = &app;
        let csrf = csrf.clone();
        async move {
            let response = app
                .client
                .post(format!("{}/computes/new/check", app.base_url))
                .header("hx-request", "true")
                .header("hx-trigger-name", field)
                .header("x-csrf-token", csrf)
                .form(&[
                    ("kind", "inference"),
                    ("source", "new"),
                    ("region", "westeurope"),
                    ("purpose", "production"),
                    ("nodes", nodes),
                    ("vm_size", size),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            response.text().await.unwrap()
        }
    };
    let small = check("2", "Standard_D4s_v3", "nodes").await;
    assert!(small.contains("id=\"capacity\""), "{small}");
    assert!(small.contains("2 nodes × 4 vCPUs = 8 vCPUs: production needs at least 12."));
    assert!(
        small.contains("id=\"error-nodes\" role=\"alert\""),
        "{small}"
    );
    let bigger = check("2", "Standard_D13_v2", "vm_size").await;
    assert!(
        bigger.contains("2 nodes × 8 vCPUs = 16 vCPUs: enough for production."),
        "{bigger}"
    );
    assert!(
        bigger.contains("id=\"error-nodes\" hx-swap-oob=\"true\" hidden"),
        "the rule is met: {bigger}"
    );
    app.stop().await;
}
