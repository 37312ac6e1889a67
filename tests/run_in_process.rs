//! `run::run` is a library call: two runs in one process, at the same time, each see only their
//! own suite, scenarios and failures (cucumber's callbacks reach the run's state through a
//! task-local, not a process-wide static).

mod common;

use contrail::exit::Exit;
use contrail::run::{RunOptions, Target};
use contrail::workspace::Workspace;

/// The bundled workspace with its recordings (the @sut feature left out, as in
/// `common::workspace_copy`).
fn replayable() -> tempfile::TempDir {
    let dir = common::workspace_copy();
    common::copy_dir(&common::repo().join("recordings"), &dir.path().join("recordings"));
    dir
}

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        color: cucumber::writer::Coloring::Never,
        ..RunOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_in_one_process_keep_their_own_suite_and_verdict() {
    let (a, b) = (replayable(), replayable());
    let ws = |d: &tempfile::TempDir| Workspace::discover(d.path()).expect("the copied workspace");

    // Passing alone, twice in a row: nothing of the first run is left for the second.
    assert_eq!(contrail::run::run(ws(&a), quiet()).await, Exit::Passed);
    assert_eq!(contrail::run::run(ws(&a), quiet()).await, Exit::Passed);

    // At the same time, beside a run whose partners cannot be reached (a harness failure, exit
    // 3): the replay run still passes, and the other keeps its own class.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead = format!("http://{}", closed.local_addr().expect("its address"));
    drop(closed);
    let unreachable = RunOptions {
        target: Some(Target::Live),
        base_urls: vec![("ticketing".into(), dead.clone()), ("incidents".into(), dead)],
        ..quiet()
    };
    let (passed, failed) = tokio::join!(
        contrail::run::run(ws(&a), quiet()),
        contrail::run::run(ws(&b), unreachable)
    );
    assert_eq!(passed, Exit::Passed, "the replay run is not touched by the other");
    assert_eq!(failed, Exit::Harness, "the unreachable run fails as the harness's");
}
