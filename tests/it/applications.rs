//! An instance's applications: linked for its owner only, opened through the dashboard, which
//! decides on the server.

use compute_studio::store;

use crate::helpers::demo_app;

#[tokio::test]
async fn only_the_owner_of_a_running_instance_opens_its_applications() {
    let (_emulator, app, _dir) = demo_app().await;
    let alan = app.another_browser();
    alan.sign_in_as("member").await;
    let (_, list) = alan.get_text("/computes?tab=instances&owner=all").await;
    let row_of = |name: &str| {
        let start = list.find(&format!("data-name=\"{name}\"")).unwrap();
        let end = list[start..].find("</tr>").unwrap() + start;
        list[start..end].to_string()
    };
    assert!(row_of("alan-notebooks").contains("/computes/alan-notebooks/open/jupyterlab"));
    assert!(
        !row_of("ada-dev-box").contains("/open/"),
        "no links to somebody else's instance"
    );

    let response = alan.get("/computes/alan-notebooks/open/jupyterlab").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        response.headers()["location"],
        "https://alan-notebooks.westeurope.instances.azureml.ms/lab"
    );
    assert_eq!(
        alan.get("/computes/alan-notebooks/open/vscode")
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        alan.get("/computes/alan-notebooks/open/shell")
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        alan.get("/computes/no-such-box/open/jupyter")
            .await
            .status()
            .as_u16(),
        404
    );

    // The admin may do everything else, but not use Alan's workstation.
    let ada = app.another_browser();
    ada.sign_in_as("admin").await;
    let (status, page) = ada
        .get_text("/computes/alan-notebooks/open/jupyterlab")
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("owner"), "{page}");

    // Grace's own instance is stopped: nothing to open yet.
    let grace = app.another_browser();
    grace.sign_in_as("contributor").await;
    let (status, page) = grace.get_text("/computes/grace-cpu-box/open/jupyter").await;
    assert_eq!(status, 400);
    assert!(page.contains("Start it first"), "{page}");

    let opened = store::audit::search(app.sync.db(), &Default::default(), 100, 0)
        .await
        .unwrap();
    assert!(
        opened
            .iter()
            .any(|e| e.action == "open-application" && e.target == "alan-notebooks")
    );
    app.stop().await;
}
