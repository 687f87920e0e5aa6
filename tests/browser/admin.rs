//! An admin creates an instance on behalf of a member: Azure is told the member is its user.

use anyhow::{Context, ensure};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn an_admin_creates_an_instance_assigned_to_a_member() {
    browser_test(
        "admin_creates_for_member",
        Scripts::On,
        watchable_timings(),
        async |ui| {
            let (ada, alan) = (person("Ada Lovelace"), person("Alan Turing"));
            // The form offers the people who have signed in: Alan signs in once first.
            ui.sign_in(alan).await?;
            ui.sign_out().await?;
            ui.sign_in(ada).await?;

            ui.goto("/computes/new?kind=instance").await?;
            ui.element("#field-name")
                .await?
                .send_keys("turing-lab")
                .await?;
            ui.pick_a_cpu_size().await?;
            ui.click("details.form-section > summary").await?;
            ui.click(&format!(
                "select[name=assign_to] option[value='{}|{}']",
                alan.object_id, alan.tenant_id
            ))
            .await?;
            ui.click("button[name=step][value=review]").await?;
            ui.text_appears("main", "Nothing has been sent to Azure yet.", PATIENCE)
                .await?;
            ui.text_appears("dl.review", alan.name, PATIENCE).await?;
            ui.click("button[name=step][value=create]").await?;
            ui.lands_on("/computes").await?;

            // What Azure was asked for: Alan is the instance's user.
            let compute = ui
                .until("Azure to know turing-lab", PATIENCE, async || {
                    Ok(ui.arm.get_compute("turing-lab").await.ok().flatten())
                })
                .await?;
            let inner = compute
                .properties
                .and_then(|p| p.properties)
                .context("an instance has properties")?;
            let assigned = &inner["personalComputeInstanceSettings"]["assignedUser"];
            ensure!(
                assigned["objectId"] == alan.object_id && assigned["tenantId"] == alan.tenant_id,
                "the instance is assigned to Alan: {assigned}"
            );

            // The list names him as its owner, and it runs.
            ui.goto("/computes?owner=all").await?;
            ui.text_appears("tr#row-turing-lab", alan.name, PATIENCE)
                .await?;
            ui.row_reaches("turing-lab", "Running", PATIENCE).await?;
            ui.screenshot("compute-list-all").await?;
            Ok(())
        },
    )
    .await;
}
