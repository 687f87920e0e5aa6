//! Everything a member does also works with JavaScript off: plain form posts, the review
//! step, and a list that reloads itself (`<noscript>` refresh) while a compute moves.

use anyhow::ensure;
use thirtyfour::By;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn without_javascript_a_member_creates_and_stops_an_instance() {
    browser_test(
        "no_script_create_and_stop",
        Scripts::Off,
        watchable_timings(),
        async |ui| {
            let alan = person("Alan Turing");
            ui.sign_in(alan).await?;
            // The page's scripts really are off: htmx never ran.
            let htmx = ui
                .driver
                .execute("return typeof window.htmx;", vec![])
                .await?;
            ensure!(
                htmx.json() == "undefined",
                "htmx did not load: {:?}",
                htmx.json()
            );

            ui.click("a.button.primary[href='/computes/new?kind=instance']")
                .await?;
            ui.lands_on("/computes/new").await?;
            ui.element("#field-name").await?.send_keys("9lives").await?;
            ui.pick_a_cpu_size().await?;
            // No check while typing: the submitted form comes back with the error beside the
            // field and in the summary at the top.
            ui.click("button[name=step][value=review]").await?;
            ui.text_appears(
                "#error-name",
                "Compute name must start with a letter.",
                PATIENCE,
            )
            .await?;
            ui.text_appears(
                ".error-summary",
                "Compute name must start with a letter.",
                PATIENCE,
            )
            .await?;
            ui.screenshot("create-form-errors-no-script").await?;

            let name_field = ui.element("#field-name").await?;
            ensure!(
                name_field.value().await?.as_deref() == Some("9lives"),
                "the form keeps what was typed"
            );
            name_field.clear().await?;
            name_field.send_keys("alan-plain").await?;
            let kept = ui
                .driver
                .find_all(By::Css("input[name=vm_size]:checked"))
                .await?;
            ensure!(kept.len() == 1, "the chosen size is kept");
            ui.click("button[name=step][value=review]").await?;
            ui.text_appears("dl.review", "alan-plain", PATIENCE).await?;
            ui.click("button[name=step][value=create]").await?;

            // The list shows it being created, then reloads itself until it runs.
            ui.lands_on("/computes").await?;
            let first = ui
                .until("alan-plain's row", PATIENCE, async || {
                    ui.row_state("alan-plain").await
                })
                .await?;
            ensure!(
                first != "Running",
                "drawn while still moving (it showed {first})"
            );
            ensure!(
                ui.driver.source().await?.contains("http-equiv=\"refresh\""),
                "a list with a moving row refreshes itself"
            );
            ui.mark_page().await?;
            ui.row_reaches("alan-plain", "Running", NO_SCRIPT_PATIENCE)
                .await?;
            ensure!(
                !ui.still_same_page().await?,
                "the page reloaded itself to get there"
            );

            // Stop from the row: a plain post, back to the list, which follows until Stopped.
            ui.click("tr#row-alan-plain button[formaction$='/stop']")
                .await?;
            ui.until("alan-plain to stop", NO_SCRIPT_PATIENCE, async || {
                Ok(ui
                    .row_state("alan-plain")
                    .await?
                    .filter(|s| s == "Stopping" || s == "Stopped"))
            })
            .await?;
            ui.row_reaches("alan-plain", "Stopped", NO_SCRIPT_PATIENCE)
                .await?;
            ensure!(
                ui.path().await?.starts_with("/computes"),
                "back on the list"
            );
            Ok(())
        },
    )
    .await;
}
