//! The live stream (`/events`): row updates pushed to every open page, the starter told when
//! an operation ends, and a reconnecting page told to catch up.

use std::time::Duration;

use crate::helpers::{TestApp, arm_client, demo_app, instance_body};

/// An open event stream, read event by event.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

/// One server-sent event.
#[derive(Debug)]
struct Event {
    name: String,
    data: String,
}

impl Stream {
    async fn open(app: &TestApp, last_event_id: Option<&str>) -> Stream {
        Self::open_with(app, "/events", last_event_id).await
    }

    async fn open_at(app: &TestApp, path: &str) -> Stream {
        Self::open_with(app, path, None).await
    }

    async fn open_with(app: &TestApp, path: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = app.client.get(format!("{}{path}", app.base_url));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event whose name passes `wanted`, within a few seconds.
    async fn next_matching(&mut self, wanted: impl Fn(&Event) -> bool) -> Event {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                while let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut event = Event {
                        name: "message".into(),
                        data: String::new(),
                    };
                    for line in block.lines() {
                        if let Some(name) = line.strip_prefix("event: ") {
                            event.name = name.to_string();
                        } else if let Some(data) =
                            line.strip_prefix("data: ").or(line.strip_prefix("data:"))
                        {
                            event.data.push_str(data);
                            event.data.push('\n');
                        }
                    }
                    if wanted(&event) {
                        return event;
                    }
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("the event arrives")
    }
}

#[tokio::test]
async fn every_open_page_gets_the_new_row_and_the_starter_a_notification() {
    let (_emulator, app, _dir) = demo_app().await;
    let alan = app.another_browser();
    alan.sign_in_as("member").await;
    let ada = app.another_browser();
    ada.sign_in_as("admin").await;
    let mut alans_page = Stream::open(&alan, None).await;
    let mut adas_page = Stream::open(&ada, None).await;

    assert_eq!(
        alan.post_form("/computes/alan-notebooks/stop", &[])
            .await
            .status()
            .as_u16(),
        303
    );
    // Changes close together arrive as one update per row: the last state, "Stopped".
    for stream in [&mut alans_page, &mut adas_page] {
        let stopped = stream
            .next_matching(|e| e.name == "row-alan-notebooks" && e.data.contains(">Stopped<"))
            .await;
        assert!(stopped.data.contains("data-name=\"alan-notebooks\""));
    }
    // Each viewer's row is their own: Alan may start his instance, and only he opens its apps.
    let notice = alans_page.next_matching(|e| e.name == "notify").await;
    assert!(
        notice.data.contains("Stop alan-notebooks finished."),
        "{notice:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_new_compute_tells_lists_to_reread_and_a_reconnect_catches_up() {
    let (emulator, app, _dir) = demo_app().await;
    app.sign_in_as("contributor").await;
    let mut page = Stream::open(&app, None).await;
    let arm = arm_client(&emulator);
    let location = emulator.emulator.config().location.clone();
    arm.create_or_update("portal-box", &instance_body(&location, "Standard_DS11_v2"))
        .await
        .unwrap();
    app.sync.refresh_compute("portal-box").await.unwrap();
    page.next_matching(|e| e.name == "list-changed").await;

    let mut reconnected = Stream::open(&app, Some("41")).await;
    reconnected
        .next_matching(|e| e.name == "list-changed")
        .await;
    // A page drawn before a change, connecting after it, is told to re-read at once.
    let (_, page) = app.get_text("/computes").await;
    assert!(
        page.contains("sse-connect=\"/events?since="),
        "the page says what it was drawn from"
    );
    let mut late = Stream::open_at(&app, "/events?since=0").await;
    late.next_matching(|e| e.name == "list-changed").await;
    app.stop().await;
}

#[tokio::test]
async fn the_stream_needs_sign_in() {
    let (_emulator, app, _dir) = demo_app().await;
    let response = app.get("/events").await;
    assert_eq!(response.status().as_u16(), 303, "to the sign-in page");
    app.stop().await;
}
