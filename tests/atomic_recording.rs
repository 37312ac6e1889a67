//! A recorder killed with SIGKILL at any moment leaves only whole recordings: every file under
//! the recordings folder parses (interrupted temp files are ignored by the loader).
//!
//! The test re-runs its own binary as a child that does nothing but save large interactions
//! through `contrail::recording::save`, so nearly every kill lands inside a write. With a
//! writer that is not atomic, this test fails.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use contrail::policy::FieldPolicy;
use contrail::recording::{self, Interaction, Meta, Seen};

const CHILD_DIR: &str = "CONTRAIL_TEST_WRITER_DIR";

fn interaction(fill: char) -> String {
    let body = format!("{{\"title\": \"{}\"}}", fill.to_string().repeat(5_000_000));
    let seen = Seen {
        method: "POST",
        path: "/tickets",
        query: &[],
        request_headers: &[],
        request_body: body.as_bytes(),
        status: 201,
        response_headers: &[],
        response_body: br#"{"id": "T-1"}"#,
    };
    let meta = Meta {
        recorded_at: "2026-11-23T00:00:00Z".into(),
        target: "http://127.0.0.1:1".into(),
        contract: "c".into(),
        contract_version: "1".into(),
        partner: "p".into(),
        operation: Some("createTicket".into()),
        scenario: None,
        sequence: 1,
        steps: None,
        took_ms: None,
    };
    Interaction::capture(&FieldPolicy::default(), &seen, meta)
        .to_pretty_json()
        .unwrap()
}

/// Not a test on its own: the writer the parent test kills. It only acts in the child, where
/// it spends nearly all its time inside `write_atomic`, overwriting 8 files with 5 MB each.
#[test]
fn writer_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else { return };
    let dir = std::path::Path::new(&dir);
    let contents = [interaction('a'), interaction('b')];
    for i in 0usize.. {
        recording::write_atomic(
            &dir.join(format!("createTicket-{}.json", i % 8)),
            contents[i % 2].as_bytes(),
        )
        .expect("write");
    }
}

#[test]
fn a_recorder_killed_mid_write_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos() as u64 | 1;
    for _ in 0..25 {
        let mut child = Command::new(&exe)
            .args(["--exact", "writer_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_DIR, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(150 + seed % 250));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Check after every kill: the next round would overwrite a torn file.
        let (_, errors) = recording::load_dir(dir.path());
        assert!(errors.is_empty(), "a recording was left half-written:\n{errors}");
    }
    let (loaded, _) = recording::load_dir(dir.path());
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .count();
    eprintln!(
        "{} whole recordings, {leftovers} interrupted temp files ignored",
        loaded.len()
    );
}
