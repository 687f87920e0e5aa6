//! `kill -9` of the real server binary with 20 operations in flight, then a restart on the same
//! SQLite file: every operation ends right, the activity history has each exactly once, and the
//! cache is what Azure (the emulator, in this process, over real HTTP) holds.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use compute_studio::azure::PowerAction;
use compute_studio::emulator::demo::DEMO_USERS;
use compute_studio::emulator::{FaultKind, FaultPlan, RequestClass, Timings};
use compute_studio::store::{self, operations};
use sqlx::SqlitePool;

use crate::faults::{all_operations, assert_cache_is_azure, assert_each_operation_ended_right};
use crate::helpers::{
    arm_client, browser, empty_config, eventually, field_value, instance_body, sign_in,
    spawn_emulator,
};

/// The server binary, killed when dropped (also when the test fails).
struct Server {
    child: Child,
}

impl Server {
    async fn start(port: u16, database_url: &str, emulator_url: &str) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_compute-studio"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(["--emulator-url", emulator_url])
            .args(["--resync-seconds", "3600", "--watch-millis", "200"])
            .args(["--demo-activity-seconds", "0"])
            .env_clear()
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let server = Server { child };
        let health = format!("http://127.0.0.1:{port}/healthz");
        eventually(Duration::from_secs(10), "the server to answer", || {
            let health = health.clone();
            async move {
                reqwest::get(&health)
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
        server
    }

    /// `kill -9`: no shutdown, no flush, nothing finished.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const SIZE: &str = "Standard_DS11_v2";
/// Running before the crash: stopped (a–c, i), restarted (d–f, j, l), deleted (g, h, k).
const RUNNING: [&str; 12] = [
    "crash-box-a",
    "crash-box-b",
    "crash-box-c",
    "crash-box-d",
    "crash-box-e",
    "crash-box-f",
    "crash-box-g",
    "crash-box-h",
    "crash-box-i",
    "crash-box-j",
    "crash-box-k",
    "crash-box-l",
];
/// Stopped before the crash: started.
const STOPPED: [&str; 4] = ["crash-box-m", "crash-box-n", "crash-box-o", "crash-box-p"];
const CREATED: [&str; 4] = ["crash-new-a", "crash-new-b", "crash-new-c", "crash-new-d"];

#[tokio::test]
async fn twenty_operations_survive_a_kill_9_of_the_server() {
    let began = Instant::now();
    let emulator = spawn_emulator(empty_config()).await;
    let emu = emulator.emulator.clone();
    let arm = arm_client(&emulator);
    let location = emu.config().location.clone();
    for name in RUNNING.iter().chain(&STOPPED) {
        arm.create_or_update(name, &instance_body(&location, SIZE))
            .await
            .expect("seeded");
    }
    let state_of = |name: &str| {
        emu.compute(name).and_then(|c| {
            c["properties"]["properties"]["state"]
                .as_str()
                .map(str::to_string)
        })
    };
    eventually(Duration::from_secs(10), "the seed to run", || async {
        RUNNING
            .iter()
            .chain(&STOPPED)
            .all(|n| state_of(n).as_deref() == Some("Running"))
    })
    .await;
    for name in STOPPED {
        arm.power(name, PowerAction::Stop).await.expect("stopped");
    }
    eventually(Duration::from_secs(10), "the seed to stop", || async {
        STOPPED
            .iter()
            .all(|n| state_of(n).as_deref() == Some("Stopped"))
    })
    .await;
    // From now on operations take seconds: they are still running when the server dies.
    emu.set_timings(Timings {
        create: Duration::from_secs(4),
        start: Duration::from_secs(3),
        stop: Duration::from_secs(3),
        restart: Duration::from_secs(3),
        delete: Duration::from_secs(3),
        update: Duration::from_secs(3),
        retry_after_secs: 1,
    });

    let seeded_at = time::OffsetDateTime::now_utc();
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("cache.db").display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server::start(port, &database_url, &emulator.base_url).await;
    let admin = DEMO_USERS.iter().find(|u| u.role == "admin").unwrap();
    let client = browser();
    sign_in(&client, &base, admin, "/computes").await;
    let mut person = Browser {
        client,
        base: base.clone(),
        csrf: String::new(),
    };
    eventually(
        Duration::from_secs(10),
        "the server to list the seed",
        || {
            let person = person.clone();
            async move {
                person
                    .get("/computes?page_size=100")
                    .await
                    .contains("data-name=\"crash-box-p\"")
            }
        },
    )
    .await;
    person.csrf = field_value(&person.get("/computes").await, "_csrf");
    let act = |name: &'static str, action: &'static str| person.clone().act(name, action);
    let create = |name: &'static str| person.clone().create(name);

    // 14 operations that Azure accepted and is carrying out.
    let mut first = vec![
        tokio::spawn(create(CREATED[0])),
        tokio::spawn(create(CREATED[1])),
        tokio::spawn(create(CREATED[2])),
    ];
    for (name, action) in [
        ("crash-box-a", "stop"),
        ("crash-box-b", "stop"),
        ("crash-box-c", "stop"),
        ("crash-box-d", "restart"),
        ("crash-box-e", "restart"),
        ("crash-box-f", "restart"),
        ("crash-box-g", "delete"),
        ("crash-box-h", "delete"),
        ("crash-box-m", "start"),
        ("crash-box-n", "start"),
        ("crash-box-o", "start"),
    ] {
        first.push(tokio::spawn(act(name, action)));
    }
    let accepted = futures_util::future::join_all(first).await;
    for status in accepted {
        assert_eq!(status.unwrap().expect("answered"), 303, "Azure accepted it");
    }
    // 3 requests that have not reached Azure yet when the server dies (they wait in front of it).
    let stalled = |kinds: &[FaultKind]| FaultPlan {
        latency: Duration::from_secs(60),
        ..FaultPlan::new(1.0, 1).with_kinds(kinds).with_classes(&[
            RequestClass::Create,
            RequestClass::Power,
            RequestClass::Delete,
        ])
    };
    emu.set_fault_plan(Some(stalled(&[FaultKind::Latency])))
        .unwrap();
    let never_sent = [
        tokio::spawn(act("crash-box-i", "stop")),
        tokio::spawn(act("crash-box-j", "restart")),
    ];
    let never_created = tokio::spawn(create(CREATED[3]));
    eventually(
        Duration::from_secs(10),
        "the stalled requests to reach Azure",
        || async {
            emu.request_count("POST", "/crash-box-i/stop") == 1
                && emu.request_count("POST", "/crash-box-j/restart") == 1
                && emu.request_count("PUT", &format!("/{}", CREATED[3])) == 1
        },
    )
    .await;
    // 3 requests Azure carries out but whose answer the server never hears.
    emu.set_fault_plan(Some(stalled(&[FaultKind::SlowAnswer])))
        .unwrap();
    let unanswered = [
        tokio::spawn(act("crash-box-k", "delete")),
        tokio::spawn(act("crash-box-l", "restart")),
        tokio::spawn(act("crash-box-p", "start")),
    ];
    eventually(
        Duration::from_secs(10),
        "Azure to carry them out",
        || async {
            let executed = emu.executed_operations();
            [
                ("crash-box-k", "delete"),
                ("crash-box-l", "restart"),
                ("crash-box-p", "start"),
            ]
            .iter()
            .all(|(n, a)| executed.iter().any(|e| e.compute == *n && e.action == *a))
        },
    )
    .await;
    let in_flight = emu
        .executed_operations()
        .iter()
        .filter(|e| e.status == "InProgress")
        .count();
    assert!(
        in_flight >= 14,
        "operations are in flight at the crash: {in_flight}"
    );

    server.kill();
    for request in never_sent
        .into_iter()
        .chain(unanswered)
        .chain([never_created])
    {
        assert!(
            request.await.unwrap().is_err(),
            "a request in flight dies with the server"
        );
    }
    emu.set_fault_plan(None).unwrap();

    let server = Server::start(port, &database_url, &emulator.base_url).await;
    let db = store::open(&database_url, 1).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ops = all_operations(&db).await;
        if ops.len() == 20 && ops.iter().all(|o| o.ended_at.is_some()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every operation ended after the restart: {ops:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let names: Vec<&str> = RUNNING
        .iter()
        .chain(&STOPPED)
        .chain(&CREATED)
        .copied()
        .collect();
    settle(&db, &names).await;
    assert_cache_is_azure(&db, &emu, &names).await;

    let ops = all_operations(&db).await;
    let mut asked: Vec<(String, String)> = ops
        .iter()
        .map(|o| (o.compute_name.clone(), o.action.clone()))
        .collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), 20, "each operation once in the history");
    let activity = person.get("/activity").await;
    // What the dashboard asked for, not the seed.
    let executed: Vec<_> = emu
        .executed_operations()
        .into_iter()
        .filter(|e| e.executed_at > seeded_at)
        .collect();
    let report = assert_each_operation_ended_right(&ops, &executed, |op| {
        activity.contains(&op.compute_name)
            && op.error_message.as_deref().is_some_and(|m| !m.is_empty())
    });
    for op in &ops {
        let expected =
            if ["crash-box-i", "crash-box-j", CREATED[3]].contains(&op.compute_name.as_str()) {
                operations::status::FAILED
            } else {
                operations::status::SUCCEEDED
            };
        assert_eq!(op.status, expected, "{op:?}");
    }
    println!(
        "{report}; {in_flight} in flight at the crash; {:.1} s",
        began.elapsed().as_secs_f64()
    );
    drop(server);
    db.close().await;
}

/// A signed-in browser (its cookies and CSRF token). Cheap to clone; the actions take it by value
/// so that a request can run in a task of its own.
#[derive(Clone)]
struct Browser {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn get(&self, path: &str) -> String {
        let response = self.client.get(format!("{}{path}", self.base)).send().await;
        response.unwrap().text().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Result<u16> {
        let mut form = fields.to_vec();
        form.push(("_csrf", &self.csrf));
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    async fn act(self, name: &'static str, action: &'static str) -> reqwest::Result<u16> {
        let confirm = [("confirm_name", name)];
        let fields: &[(&str, &str)] = if action == "delete" { &confirm } else { &[] };
        self.post(&format!("/computes/{name}/{action}"), fields)
            .await
    }

    async fn create(self, name: &'static str) -> reqwest::Result<u16> {
        let token = field_value(&self.get("/computes/new?kind=instance").await, "form_token");
        self.post(
            "/computes/new",
            &crate::helpers::instance_form(&token, name),
        )
        .await
    }
}

/// Waits until no cached compute is in a transitional state.
async fn settle(db: &SqlitePool, names: &[&str]) {
    eventually(Duration::from_secs(20), "the cache to settle", || async {
        for name in names {
            if let Some(row) = store::computes::get_row(db, name).await.unwrap()
                && compute_studio::domain::compute::TRANSITIONAL_STATES
                    .contains(&row.state.as_str())
            {
                return false;
            }
        }
        true
    })
    .await;
}
