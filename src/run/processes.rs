//! Every process a run starts (services, the system under test) lives in a process group of
//! its own, so that stopping it stops what it started too: `sh -c`, `cargo run` and
//! `npm start` all leave their real server as a grandchild, which killing the direct child
//! would orphan. Stopping sends SIGTERM to the group, waits a grace period for the group to
//! be gone, then sends SIGKILL.
//!
//! The groups alive right now are also kept in a process-wide set, so that contrail itself,
//! interrupted by SIGINT or SIGTERM, can stop them all before it exits (`on_signal_stop_all`).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a group gets to stop after SIGTERM before it is killed.
pub const GRACE: Duration = Duration::from_secs(3);

static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Remembers a group started by this run.
pub fn register(pgid: i32) {
    if let Ok(mut g) = GROUPS.lock() {
        g.insert(pgid);
    }
}

fn forget(pgid: i32) {
    if let Ok(mut g) = GROUPS.lock() {
        g.remove(&pgid);
    }
}

fn signal_group(pgid: i32, signal: i32) -> bool {
    // SAFETY: kill(2) has no memory effects; a negative pid names the process group.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether any process of the group is still there (zombies left for their parent count as
/// gone: they run nothing).
fn group_alive(pgid: i32) -> bool {
    if !signal_group(pgid, 0) {
        return false;
    }
    // kill(0) succeeds for zombies too; look at what the members are.
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.filter_map(Result::ok).any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.first().is_some_and(|s| *s != "Z") && fields.get(2).and_then(|p| p.parse::<i32>().ok()) == Some(pgid)
    })
}

/// Stops a group: SIGTERM, up to `GRACE` for it to be gone, then SIGKILL. Blocking; runs in
/// a signal handler's task or on drop as well as in a normal stop.
pub fn stop_group_blocking(pgid: i32) {
    if signal_group(pgid, libc::SIGTERM) {
        let started = Instant::now();
        while group_alive(pgid) && started.elapsed() < GRACE {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    signal_group(pgid, libc::SIGKILL);
    forget(pgid);
}

/// The same, without blocking the async runtime.
pub async fn stop_group(pgid: i32) {
    let _ = tokio::task::spawn_blocking(move || stop_group_blocking(pgid)).await;
}

/// Stops every group still registered (the run was interrupted): SIGTERM to all at once, one
/// grace period for all, then SIGKILL.
pub fn stop_all_blocking() {
    let groups: Vec<i32> = GROUPS.lock().map(|g| g.iter().copied().collect()).unwrap_or_default();
    for &pgid in &groups {
        signal_group(pgid, libc::SIGTERM);
    }
    let started = Instant::now();
    while groups.iter().any(|&g| group_alive(g)) && started.elapsed() < GRACE {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
        forget(pgid);
    }
}

/// On SIGINT or SIGTERM: stop every service and system under test this run started, then
/// exit (130 or 143, as a shell reports a process ended by that signal). Mock servers live in
/// this process and end with it; recordings are written atomically, so none is left half.
pub fn on_signal_stop_all() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        eprintln!("contrail: interrupted; stopping the services and the system under test");
        let _ = tokio::task::spawn_blocking(stop_all_blocking).await;
        std::process::exit(code);
    });
}
