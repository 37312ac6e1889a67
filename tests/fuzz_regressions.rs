//! Every input a fuzz target ever crashed on (fuzz/regressions/<target>/), and the bundled files
//! the corpora are seeded from, through the same harness the fuzz targets call (fuzz/harness/):
//! a fixed crash stays fixed on every `cargo test`, with no nightly compiler and no cargo-fuzz.
//! The long runs live in bench/fuzz.sh.

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::mock::Mode;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs `target` on each committed regression input; the file's name says what it found.
fn regressions<R>(target: &str, run: impl Fn(&[u8]) -> R) -> usize {
    let dir = harness::root().join("fuzz/regressions").join(target);
    let files = inputs(&dir);
    // Every input runs, so that one report names all that fail again, not only the first.
    let failing: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).expect("a regression input");
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(failing.is_empty(), "failing again:\n{}", failing.join("\n"));
    files.len()
}

/// What a fuzz target does with one input.
type Target = dyn Fn(&[u8]);

/// Every target's committed crashing inputs, by the target's name (a folder under
/// fuzz/regressions/ no target claims fails, so an input cannot sit there unread).
#[test]
fn every_committed_crash_stays_fixed() {
    let targets: [(&str, &Target); 11] = [
        ("contract", &harness::files::contract),
        ("openapi", &harness::files::openapi),
        ("gherkin", &harness::files::gherkin),
        ("steps", &harness::files::steps),
        ("recording", &harness::files::recording),
        ("matching", &harness::values::matching),
        ("interpolate", &harness::values::interpolate_text),
        ("webhook_sign", &harness::values::webhook_sign),
        ("mock_replay", &|d| drop(harness::mock::mock(Mode::Replay, d))),
        ("mock_record", &|d| drop(harness::mock::mock(Mode::Record, d))),
        ("mock_simulate", &|d| drop(harness::mock::mock(Mode::Simulate, d))),
    ];
    let folders = std::fs::read_dir(harness::root().join("fuzz/regressions")).expect("fuzz/regressions");
    for dir in folders.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(targets.iter().any(|(t, _)| *t == name), "no fuzz target named {name}");
    }
    let run: usize = targets.iter().map(|(t, f)| regressions(t, f)).sum();
    assert!(run >= 1, "the committed crashing inputs were found");
    // A contract can still name a header HTTP can carry, and contrail signs with it.
    harness::values::webhook_sign(b"\x44\0whsec_abc\0X-Partner-Signature\0msg_1\0{}");
}

/// The bundled files pass the harness's checks (round trips, self-matches) as they are.
#[test]
fn bundled_files() {
    let root = harness::root();
    harness::files::contract(&std::fs::read(root.join("contracts/support-escalation.yaml")).expect("contract"));
    for f in inputs(&root.join("contracts/openapi")) {
        harness::files::openapi(&std::fs::read(f).expect("document"));
    }
    for f in inputs(&root.join("features")) {
        harness::files::gherkin(&std::fs::read(f).expect("feature"));
    }
    harness::files::steps(&std::fs::read(root.join("steps/support.yaml")).expect("steps"));
    for partner in ["ticketing", "incidents"] {
        for f in inputs(&root.join("recordings").join(partner)) {
            let data = std::fs::read(&f).expect("recording");
            harness::files::recording(&data);
            let body = serde_json::from_slice::<serde_json::Value>(&data).expect("json")["response"]["body"]["json"]
                .to_string();
            harness::values::matching(format!("{body}\0{body}").as_bytes());
        }
    }
}

/// The record target's check can fail: a file holding the request's credential is caught.
#[test]
fn a_credential_on_disk_is_caught() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let token = "tok_0123456789abcdef0123".to_string();
    std::fs::write(
        dir.path().join("r.json"),
        format!("{{\"authorization\":\"Bearer {token}\"}}"),
    )
    .expect("write");
    let caught = std::panic::catch_unwind(|| {
        harness::mock::no_credential_on_disk(&[dir.path().join("r.json")], std::slice::from_ref(&token))
    });
    assert!(caught.is_err(), "a recorded credential went unnoticed");
    // Escaped in the file's text, or written as a number: still held.
    for (escaped, held) in [
        (r#"{"note":"tok_\"0123456789abcdef"}"#, "tok_\"0123456789abcdef"),
        (r#"{"id":12345678901234567890}"#, "12345678901234567890"),
    ] {
        std::fs::write(dir.path().join("r.json"), escaped).expect("write");
        let caught = std::panic::catch_unwind(|| {
            harness::mock::no_credential_on_disk(&[dir.path().join("r.json")], &[held.to_string()])
        });
        assert!(caught.is_err(), "{held} in {escaped} went unnoticed");
    }
}

/// A "credential" the file spells only across its own layout (a CI smoke's input sent the text
/// that follows a redacted cookie in every recording) is not one the file holds.
#[test]
fn a_credential_spelled_only_by_the_files_layout_is_not_held() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    std::fs::write(
        dir.path().join("r.json"),
        "{\n  \"headers\": {\n    \"cookie\": \"<redacted>\"\n  },\n  \"status\": 200\n}",
    )
    .expect("write");
    harness::mock::no_credential_on_disk(
        &[dir.path().join("r.json")],
        &["kie\": \"<redacted>\"\n  },".to_string()],
    );
}

/// ... and it has something to look at: the stub partner echoes the bearer token in its body and
/// a cookie, the request is recorded, and neither copy reaches the file.
#[test]
fn record_mode_redacts_an_echoed_credential() {
    let request = b"\x00GET /tickets/T-1\nhost: 127.0.0.1\nauthorization: Bearer tok_0123456789abcdef0123\n\n";
    let recorded = harness::mock::mock(Mode::Record, request);
    assert_eq!(recorded.len(), 1, "one interaction recorded: {recorded:?}");
    let text = std::fs::read_to_string(&recorded[0]).expect("the recording");
    assert!(text.contains("<redacted>"), "{text}");
}
