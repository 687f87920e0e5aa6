//! A member's day: sign in through the Entra picker, create an instance with the form's
//! inline checks, watch it run and stop it — the list following over server-sent events.

use anyhow::ensure;
use thirtyfour::By;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_member_signs_in_by_picking_their_account_and_sees_their_own_compute() {
    browser_test(
        "member_signs_in",
        Scripts::On,
        watchable_timings(),
        async |ui| {
            let alan = person("Alan Turing");
            ui.sign_in(alan).await?;
            // A member's list starts at "Me": only Alan's instances.
            let owner = ui.element("select[name=owner] option:checked").await?;
            ensure!(
                owner.text().await?.starts_with("Me"),
                "the owner filter starts at Me"
            );
            let rows = ui.names_in_list().await?;
            ensure!(
                rows == ["alan-gpu-train", "alan-notebooks"],
                "Alan sees his two instances, sorted by name: {rows:?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_member_creates_an_instance_sees_it_run_and_stops_it_without_a_reload() {
    browser_test(
        "member_creates_and_stops",
        Scripts::On,
        watchable_timings(),
        async |ui| {
            let alan = person("Alan Turing");
            ui.sign_in(alan).await?;
            ui.click("a.button.primary[href='/computes/new?kind=instance']")
                .await?;
            ui.lands_on("/computes/new").await?;

            // A bad name is refused beside the field while typing (htmx asks the server after
            // 400 ms of quiet), before anything is submitted.
            let name_field = ui.element("#field-name").await?;
            name_field.send_keys("9lives").await?;
            ui.text_appears(
                "#error-name",
                "Compute name must start with a letter.",
                PATIENCE,
            )
            .await?;
            ensure!(
                ui.element("#error-name").await?.is_displayed().await?,
                "the name's error is visible"
            );
            ensure!(
                ui.path().await?.starts_with("/computes/new"),
                "still on the form"
            );
            ui.screenshot("create-form-errors").await?;

            // Fixed, the error goes away.
            name_field.clear().await?;
            name_field.send_keys("alan-browser").await?;
            ui.until("the name's error to go away", PATIENCE, async || {
                let error = ui.driver.find(By::Css("#error-name")).await?;
                Ok((!error.is_displayed().await?).then_some(()))
            })
            .await?;

            let size = ui.pick_a_cpu_size().await?;
            ui.click("button[name=step][value=review]").await?;
            ui.text_appears("main", "Nothing has been sent to Azure yet.", PATIENCE)
                .await?;
            ui.text_appears("dl.review", "alan-browser", PATIENCE)
                .await?;
            ui.click("button[name=step][value=create]").await?;

            // Back on the list with the new row, which follows Azure without a reload.
            ui.lands_on("/computes").await?;
            let first = ui
                .until("alan-browser's row", PATIENCE, async || {
                    ui.row_state("alan-browser").await
                })
                .await?;
            ui.mark_page().await?;
            ensure!(
                first != "Running",
                "the list was drawn while Azure still created the instance (it showed {first})"
            );
            ui.row_reaches("alan-browser", "Running", PATIENCE).await?;
            ensure!(
                ui.still_same_page().await?,
                "the row changed without a reload"
            );
            ui.text_appears("tr#row-alan-browser", &size, PATIENCE)
                .await?;
            ui.screenshot("compute-list").await?;

            // Its details page says the same.
            ui.click("tr#row-alan-browser th a").await?;
            ui.lands_on("/computes/alan-browser").await?;
            ui.text_appears("#compute-status .state", "Running", PATIENCE)
                .await?;
            ui.text_appears("main", &size, PATIENCE).await?;
            ui.screenshot("details").await?;

            // Stopped from its row: the row itself is swapped, then follows to Stopped.
            ui.goto("/computes").await?;
            ui.row_reaches("alan-browser", "Running", PATIENCE).await?;
            ui.mark_page().await?;
            ui.click("tr#row-alan-browser button[formaction$='/stop']")
                .await?;
            ui.row_reaches("alan-browser", "Stopping", PATIENCE).await?;
            ui.row_reaches("alan-browser", "Stopped", PATIENCE).await?;
            ensure!(ui.still_same_page().await?, "stopping needed no reload");
            ensure!(
                ui.path().await?.starts_with("/computes"),
                "still on the list"
            );
            Ok(())
        },
    )
    .await;
}
