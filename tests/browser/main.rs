//! End-to-end tests in a real browser: Debian's Chromium, headless, driven through chromedriver
//! (WebDriver, with thirtyfour) against the real server, its SQLite file and the emulator over
//! real HTTP — the same harness as `tests/it`, plus a browser.
//!
//! They need `chromium` and `chromium-driver` (Debian packages), so they are `#[ignore]`d: a
//! plain `cargo test` lists them as ignored, and `scripts/test` runs them with
//! `cargo test --test browser -- --ignored`. `CHROMIUM` and `CHROMEDRIVER` override where the
//! two programs are (default: `/usr/bin/chromium` and `chromedriver` on the `PATH`).
//!
//! Screenshots land in `target/screenshots/`; a failed test leaves `FAILED-<test>.png` and
//! `.html` there too.

#[path = "../it/helpers.rs"]
#[allow(dead_code)]
mod app;
mod helpers;

mod admin;
mod member;
mod no_script;
mod team_lead;
