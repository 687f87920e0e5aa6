//! A team lead (contributor) narrows the list to one person and stops their instances in bulk.

use anyhow::ensure;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_team_lead_filters_by_owner_and_stops_the_ticked_rows_in_bulk() {
    browser_test(
        "team_lead_bulk_stop",
        Scripts::On,
        watchable_timings(),
        async |ui| {
            let (grace, alan) = (person("Grace Hopper"), person("Alan Turing"));
            ui.sign_in(grace).await?;
            // alan-gpu-train is seeded Stopping: let it settle, so the bulk outcome is certain.
            ui.goto("/computes?owner=all").await?;
            ui.row_reaches("alan-gpu-train", "Stopped", PATIENCE)
                .await?;
            ui.row_reaches("alan-notebooks", "Running", PATIENCE)
                .await?;

            // The Owner select narrows the list in place (and into the address).
            ui.click(&format!(
                "select[name=owner] option[value='{}']",
                alan.object_id
            ))
            .await?;
            ui.until(
                "the list to show only Alan's instances",
                PATIENCE,
                async || {
                    let names = ui.names_in_list().await.unwrap_or_default();
                    Ok((names == ["alan-gpu-train", "alan-notebooks"]).then_some(()))
                },
            )
            .await?;
            ensure!(
                ui.path()
                    .await?
                    .contains(&format!("owner={}", alan.object_id)),
                "the filter is in the address"
            );

            // Tick both: one running (stopped), one already stopped (skipped, with the reason).
            ui.click("tr#row-alan-notebooks input[name=names]").await?;
            ui.click("tr#row-alan-gpu-train input[name=names]").await?;
            ui.click("#bulk select[name=action] option[value=stop]")
                .await?;
            ui.mark_page().await?;
            ui.click("#bulk button[type=submit]").await?;
            ui.text_appears(
                "#bulk-results h2",
                "Stop: 1 started, 1 skipped, 0 failed",
                PATIENCE,
            )
            .await?;
            ui.text_appears("#bulk-results tr.bulk-started", "alan-notebooks", PATIENCE)
                .await?;
            ui.text_appears("#bulk-results tr.bulk-skipped", "alan-gpu-train", PATIENCE)
                .await?;
            ui.screenshot("bulk-results").await?;

            // The stopped one follows to Stopped in place.
            ui.row_reaches("alan-notebooks", "Stopped", PATIENCE)
                .await?;
            ensure!(ui.still_same_page().await?, "all of it without a reload");
            Ok(())
        },
    )
    .await;
}
