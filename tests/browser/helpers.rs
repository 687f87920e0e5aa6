//! The browser harness: each test gets its own emulator, application (on a fresh database),
//! chromedriver on a free port and headless Chromium with a new profile, and a [`Ui`] to drive
//! them with. Every wait polls the DOM until a deadline; none sleeps for a fixed time.
//!
//! When a test fails, the page it was on is kept: `target/screenshots/FAILED-<test>.png` and
//! `.html`, and the message says which wait gave up and what it last saw.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use compute_studio::azure::ArmClient;
use compute_studio::emulator::demo::{DEMO_USERS, DemoUser};
use compute_studio::emulator::{EmulatorConfig, Timings};
use futures_util::FutureExt;
use thirtyfour::prelude::*;

use crate::app::{TestApp, arm_client, database_url, spawn_emulator};

/// How long any one thing the page should do may take.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// Without JavaScript the list re-reads itself every 5 s (`<noscript>` refresh): two rounds.
pub const NO_SCRIPT_PATIENCE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// Whether the browser runs the page's scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    On,
    Off,
}

/// The emulator's fast timings, but with creating and stopping slow enough (2 s) that the
/// list is drawn while the compute still moves: the test then watches the change arrive.
pub fn watchable_timings() -> Timings {
    Timings {
        create: Duration::from_secs(2),
        stop: Duration::from_secs(2),
        ..Timings::fast()
    }
}

/// The demo person with this name.
pub fn person(name: &str) -> &'static DemoUser {
    DEMO_USERS
        .iter()
        .find(|u| u.name == name)
        .expect("a demo person of that name")
}

/// Runs one browser test: starts everything, runs `body`, keeps the page if it failed, and
/// stops everything whatever happened.
pub async fn browser_test(
    test: &str,
    scripts: Scripts,
    timings: Timings,
    body: impl AsyncFnOnce(Ui) -> Result<()>,
) {
    let started = Instant::now();
    for stale in ["png", "html"] {
        let _ = std::fs::remove_file(screenshot_dir().join(format!("FAILED-{test}.{stale}")));
    }
    let mut config = EmulatorConfig::demo();
    config.timings = timings;
    config.demo_activity = None;
    let emulator = spawn_emulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(&emulator, &database_url(&dir)).await;
    let browser = Browser::start(scripts)
        .await
        .unwrap_or_else(|e| panic!("{test}: the browser did not start: {e:#}"));
    let ui = Ui {
        driver: browser.driver.clone(),
        base_url: app.base_url.clone(),
        arm: arm_client(&emulator),
    };
    let keep = ui.clone();
    let outcome = std::panic::AssertUnwindSafe(body(ui)).catch_unwind().await;
    let failure = match &outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(panic) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into()),
        ),
    };
    let kept = match &failure {
        Some(_) => keep.keep_failed_page(test).await,
        None => String::new(),
    };
    drop(keep);
    browser.stop().await;
    app.stop().await;
    drop(emulator);
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
    if let Some(failure) = failure {
        panic!("{test} failed: {failure}{kept}");
    }
}

/// chromedriver and the Chromium session it runs.
struct Browser {
    driver: WebDriver,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(scripts: Scripts) -> Result<Browser> {
        let port = free_port()?;
        let chromedriver_bin =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromedriver = Command::new(&chromedriver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("starting {chromedriver_bin} (is chromium-driver installed?)")
            })?;
        let mut guard = DriverGuard(Some(chromedriver));
        let server = format!("http://127.0.0.1:{port}");
        wait_for_chromedriver(&server).await?;

        let profile = tempfile::tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))?;
        // What Chromium needs on this closed network (no background connections), as root,
        // in a container, with a profile of its own.
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--lang=en-US",
            "--window-size=1760,1000",
            "--force-device-scale-factor=1",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        if scripts == Scripts::Off {
            caps.add_experimental_option(
                "prefs",
                serde_json::json!({"profile.managed_default_content_settings.javascript": 2}),
            )?;
        }
        let driver = WebDriver::new(&server, caps)
            .await
            .context("opening a Chromium session")?;
        Ok(Browser {
            driver,
            chromedriver: guard.0.take().expect("still held"),
            _profile: profile,
        })
    }

    async fn stop(mut self) {
        if let Err(e) = self.driver.quit().await {
            eprintln!("closing Chromium: {e}");
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Ends chromedriver if the session could not be opened.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_chromedriver(server: &str) -> Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + PATIENCE;
    loop {
        match client.get(format!("{server}/status")).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            _ if Instant::now() > deadline => bail!("chromedriver did not answer at {server}"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Where the tests put their screenshots: `target/screenshots/` of the project.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots can be created");
    dir
}

/// The page as a person sees it, and the emulator behind it.
#[derive(Clone)]
pub struct Ui {
    pub driver: WebDriver,
    pub base_url: String,
    /// Talks to the emulator as the product does, to check what Azure was told.
    pub arm: ArmClient,
}

impl Ui {
    pub async fn goto(&self, path: &str) -> Result<()> {
        self.driver
            .goto(format!("{}{path}", self.base_url))
            .await
            .with_context(|| format!("opening {path}"))
    }

    /// The current address's path and query, e.g. `/computes?tab=instances`.
    pub async fn path(&self) -> Result<String> {
        let url = self.driver.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    /// Polls `probe` until it finds what it looks for, or fails after `limit` saying what it
    /// waited for and what it last saw. A probe's WebDriver errors (an element not there yet,
    /// or replaced under it by a swap) count as "not yet".
    pub async fn until<T>(
        &self,
        what: &str,
        limit: Duration,
        mut probe: impl AsyncFnMut() -> WebDriverResult<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + limit;
        let mut last;
        loop {
            match probe().await {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => last = "not yet".into(),
                Err(e) => last = first_line(&e.to_string()),
            }
            if Instant::now() > deadline {
                let at = self.path().await.unwrap_or_default();
                bail!(
                    "timed out after {:.0?} waiting for {what} (on {at}; last probe: {last})",
                    limit
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element once it is on the page.
    pub async fn element(&self, css: &str) -> Result<WebElement> {
        self.until(&format!("`{css}` on the page"), PATIENCE, async || {
            Ok(Some(self.driver.find(By::Css(css)).await?))
        })
        .await
    }

    /// The text of the element, once it is on the page and contains `expected`.
    pub async fn text_appears(&self, css: &str, expected: &str, limit: Duration) -> Result<String> {
        self.until(
            &format!("`{css}` to read \"{expected}\""),
            limit,
            async || {
                let text = self.driver.find(By::Css(css)).await?.text().await?;
                Ok(text.contains(expected).then_some(text))
            },
        )
        .await
    }

    /// Clicks the element once it is on the page and can be clicked.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.until(&format!("`{css}` to be clicked"), PATIENCE, async || {
            let element = self.driver.find(By::Css(css)).await?;
            if !element.is_displayed().await? || !element.is_enabled().await? {
                return Ok(None);
            }
            element.click().await?;
            Ok(Some(()))
        })
        .await
    }

    /// Waits until the address is `path` (and any query), after a navigation.
    pub async fn lands_on(&self, path: &str) -> Result<String> {
        self.until(
            &format!("the browser to land on {path}"),
            PATIENCE,
            async || {
                let url = self.driver.current_url().await?;
                Ok((url.path() == path).then(|| url.to_string()))
            },
        )
        .await
    }

    /// Signs in through the emulator's stand-in for Entra: the dashboard sends a browser
    /// without a session to the picker, where this person's button is pressed.
    pub async fn sign_in(&self, who: &DemoUser) -> Result<()> {
        self.goto("/computes").await?;
        self.text_appears("h1", "Pick an account", PATIENCE).await?;
        self.click(&format!(
            "button[name=user_object_id][value='{}']",
            who.object_id
        ))
        .await?;
        self.lands_on("/computes").await?;
        self.text_appears(".account", who.name, PATIENCE).await?;
        Ok(())
    }

    /// Signs out with the top bar's button.
    pub async fn sign_out(&self) -> Result<()> {
        self.click("form[action='/auth/logout'] button").await?;
        self.lands_on("/auth/signed-out").await?;
        Ok(())
    }

    /// The text of a compute's state badge in the list, if its row is there.
    pub async fn row_state(&self, name: &str) -> WebDriverResult<Option<String>> {
        let rows = self
            .driver
            .find_all(By::Css(format!("tr#row-{name} .state")))
            .await?;
        match rows.first() {
            Some(badge) => Ok(Some(badge.text().await?)),
            None => Ok(None),
        }
    }

    /// Waits for a compute's row to show `state`, without touching the page.
    pub async fn row_reaches(&self, name: &str, state: &str, limit: Duration) -> Result<()> {
        self.until(
            &format!("{name}'s row to show {state}"),
            limit,
            async || {
                Ok(self
                    .row_state(name)
                    .await?
                    .filter(|s| s == state)
                    .map(|_| ()))
            },
        )
        .await
    }

    /// The names of the rows the list shows, in order.
    pub async fn names_in_list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for row in self.driver.find_all(By::Css("tr.compute-row")).await? {
            names.extend(row.attr("data-name").await?);
        }
        Ok(names)
    }

    /// Picks the first CPU size the form offers as available; returns its name.
    pub async fn pick_a_cpu_size(&self) -> Result<String> {
        let css = "tr.size-cpu:not(.unavailable) input[name=vm_size]";
        let size = self.element(css).await?;
        let name = size.value().await?.context("a size has a value")?;
        self.click(&format!("{css}[value='{name}']")).await?;
        Ok(name)
    }

    /// Marks the page (a JavaScript global) so that [`Ui::still_same_page`] can tell whether
    /// it was reloaded or left since.
    pub async fn mark_page(&self) -> Result<()> {
        self.driver
            .execute("window.__sameDocument = true;", vec![])
            .await?;
        Ok(())
    }

    pub async fn still_same_page(&self) -> Result<bool> {
        let answer = self
            .driver
            .execute("return window.__sameDocument === true;", vec![])
            .await?;
        Ok(answer.json().as_bool() == Some(true))
    }

    /// Writes `target/screenshots/<name>.png` of what the window shows.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let path = screenshot_dir().join(format!("{name}.png"));
        self.driver
            .screenshot(&path)
            .await
            .with_context(|| format!("saving {}", path.display()))?;
        Ok(path)
    }

    /// Keeps the page a failed test ended on; returns words for the failure message.
    async fn keep_failed_page(&self, test: &str) -> String {
        let dir = screenshot_dir();
        let png = dir.join(format!("FAILED-{test}.png"));
        let html = dir.join(format!("FAILED-{test}.html"));
        let at = self.path().await.unwrap_or_default();
        let shot = self.driver.screenshot(&png).await;
        let source = match self.driver.source().await {
            Ok(source) => std::fs::write(&html, source).map_err(|e| anyhow!(e)),
            Err(e) => Err(anyhow!(e)),
        };
        match (shot, source) {
            (Ok(()), Ok(())) => format!(
                "\n  the page ({at}) is kept in {} and {}",
                png.display(),
                html.display()
            ),
            (shot, source) => format!(
                "\n  the page ({at}) could not be kept: screenshot {shot:?}, source {source:?}"
            ),
        }
    }
}

/// An error's words on one line, cut to a readable length.
fn first_line(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(200).collect()
}
