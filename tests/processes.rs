//! Nothing a run starts outlives it: a service started through `sh -c` (whose real server is a
//! grandchild, and which starts a stray `sleep` besides) is gone with all its children when the
//! run ends, and when contrail is stopped with SIGTERM in the middle of a scenario.

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

/// A copy of the bundled workspace whose sandbox starts through `sh -c`, writing the pids of
/// its children to files.
fn workspace_with_shell_service() -> tempfile::TempDir {
    let ws = workspace_copy();
    let partner = env!("CARGO_BIN_EXE_contrail-demo-partner");
    std::fs::write(
        ws.path().join("contrail.toml"),
        format!(
            r#"[partners.ticketing]
live = "{{services.sandbox.url}}"

[partners.incidents]
live = "{{services.sandbox.url}}"

[services.sandbox]
command = ["sh", "-c", "sleep 1000 & echo $! > sleep.pid; {partner} --port {{port}} & echo $! > partner.pid; wait"]
ready = "/health"
"#
        ),
    )
    .unwrap();
    ws
}

/// A scenario that waits a minute for requests nobody sends: a run is surely mid-scenario.
fn write_waiting_feature(ws: &Path) {
    std::fs::write(
        ws.join("features/waits.feature"),
        concat!(
            "Feature: waits\n",
            "  Scenario: a long wait\n",
            "    Given the contract \"support-escalation\"\n",
            "    Then within 60 seconds \"incidents\" receives at least 5 \"createIncident\" requests\n",
        ),
    )
    .unwrap();
}

fn pid(ws: &Path, name: &str) -> i32 {
    std::fs::read_to_string(ws.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

/// Whether the process runs (a zombie waiting for its reaper runs nothing).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

fn assert_gone(ws: &Path) {
    for name in ["sleep.pid", "partner.pid"] {
        let p = pid(ws, name);
        // The run has ended: give the kernel a moment to finish delivering the kill.
        let started = Instant::now();
        while alive(p) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(p), "{name} ({p}) outlived the run");
    }
}

#[test]
fn a_shell_service_and_its_children_stop_with_the_run() {
    let ws = workspace_with_shell_service();
    let out = contrail(
        ws.path(),
        &[
            "run",
            "--target",
            "live",
            "--color",
            "never",
            "features/tickets.feature",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_gone(ws.path());
}

#[test]
fn sigterm_stops_the_run_and_everything_it_started() {
    let ws = workspace_with_shell_service();
    write_waiting_feature(ws.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_contrail"))
        .current_dir(ws.path())
        .args([
            "run",
            "--target",
            "record",
            "--color",
            "never",
            "features/waits.feature",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start contrail");
    // Wait until the service runs (both pid files written), then a little more for the
    // scenario to be waiting.
    let started = Instant::now();
    while !(ws.path().join("partner.pid").exists() && ws.path().join("sleep.pid").exists()) {
        if let Some(s) = child.try_wait().expect("wait") {
            panic!("contrail ended ({s}) before its service started");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the service never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: a plain kill(2) of the child we spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let stopping = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if stopping.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("contrail did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = {
        use std::io::Read as _;
        let mut s = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut s));
        s
    };
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_gone(ws.path());
}

/// A caller that drops a run in the middle of a scenario (a timeout around `run::run`) leaves
/// nothing running either: what the run started is owned by a guard that stops it on drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_mid_scenario_takes_down_what_it_started() {
    use contrail::run::{RunOptions, Target};
    let ws = workspace_with_shell_service();
    write_waiting_feature(ws.path());
    let opts = RunOptions {
        paths: vec![ws.path().join("features/waits.feature")],
        target: Some(Target::Record),
        quiet: true,
        color: cucumber::writer::Coloring::Never,
        ..RunOptions::default()
    };
    let workspace = contrail::workspace::Workspace::discover(ws.path()).expect("the workspace");
    // The process's own panic hook, which a dropped run must leave in place (cucumber silences
    // panics while it runs). The test's own threads' panics are not expected here.
    static PROBE_PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() == Some(&"probe") {
            PROBE_PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        } else {
            default(info);
        }
    }));
    // Boxed, so that dropping it drops the run (a pinned local would live to the end of scope).
    let mut run = Box::pin(contrail::run::run(workspace, opts));
    let started = Instant::now();
    let ready = || ws.path().join("partner.pid").exists() && ws.path().join("sleep.pid").exists();
    // The service runs, then a little more for the scenario to be waiting.
    let mut settled = None;
    while settled.is_none_or(|at: Instant| at.elapsed() < Duration::from_millis(500)) {
        tokio::select! {
            exit = run.as_mut() => panic!("the run ended ({exit:?}) before it was dropped"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if settled.is_none() && ready() {
            settled = Some(Instant::now());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the service never started");
    }
    drop(run);
    assert_gone(ws.path());
    let _ = std::thread::spawn(|| std::panic::panic_any("probe")).join();
    assert_eq!(
        PROBE_PANICS.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the process's panic hook was not put back after the dropped run"
    );
    drop(std::panic::take_hook());
}
