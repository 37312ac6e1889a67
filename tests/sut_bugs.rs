//! The bundled @sut feature against the demo integration service: it passes against the
//! correct service, and each planted bug fails the scenarios written for that promise, with a
//! message that names the broken promise. A planted bug runs only the scenarios it concerns
//! (the whole feature runs once, against the correct service): each of them must fail, and
//! only because of that bug.

mod common;

use std::path::Path;

use common::{Output, contrail_env, copy_dir, repo};

/// The bundled workspace (recordings included) with only the @sut feature, and a
/// contrail.toml whose [sut] is the built demo integration with these `--bug`s.
fn workspace(bugs: &[&str]) -> tempfile::TempDir {
    let ws = common::workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::remove_dir_all(ws.path().join("features")).expect("features");
    std::fs::create_dir_all(ws.path().join("features")).expect("features");
    std::fs::copy(
        repo().join("features/escalation-service.feature"),
        ws.path().join("features/escalation-service.feature"),
    )
    .expect("copy the feature");
    let bug_args: Vec<&str> = bugs.iter().flat_map(|b| ["--bug", b]).collect();
    let toml = common::demo_sut_toml(&bug_args, "", "");
    std::fs::write(ws.path().join("contrail.toml"), toml).expect("contrail.toml");
    ws
}

/// A fixed seed: the generated-data scenario makes the same payloads every time.
fn run(dir: &Path) -> Output {
    contrail_env(dir, &["run", "--color", "never"], &[("CONTRAIL_SEED", "42")])
}

/// The scenarios that failed, by name.
fn failed(out: &Output) -> Vec<String> {
    let mut current = String::new();
    let mut failed = Vec::new();
    for line in out.stdout.lines() {
        if let Some(name) = line.trim_start().strip_prefix("Scenario: ") {
            current = name.to_string();
        }
        if line.contains("Step failed") && !failed.contains(&current) {
            failed.push(current.clone());
        }
    }
    failed
}

/// Only these scenarios, by exact name.
fn run_only(dir: &Path, scenarios: &[&str]) -> Output {
    let names: Vec<String> = scenarios.iter().map(|n| regex::escape(n)).collect();
    let pattern = format!("^({})$", names.join("|"));
    contrail_env(
        dir,
        &["run", "--color", "never", "--name", &pattern],
        &[("CONTRAIL_SEED", "42")],
    )
}

fn assert_caught(bug: &str, scenarios: &[&str], message: &str) {
    let ws = workspace(&[bug]);
    let out = run_only(ws.path(), scenarios);
    let summary = match scenarios.len() {
        1 => "1 scenario (1 failed)".to_string(),
        n => format!("{n} scenarios ({n} failed)"),
    };
    assert!(
        out.stdout.contains(&summary),
        "--bug {bug}: not every chosen scenario ran and failed:\n{}",
        out.stdout
    );
    assert_eq!(out.code, 1, "--bug {bug} was not caught:\n{}", out.all());
    assert_eq!(failed(&out), scenarios, "--bug {bug}:\n{}", out.stdout);
    assert!(
        out.stdout.contains(message),
        "--bug {bug}: no {message:?} in\n{}",
        out.stdout
    );
}

#[test]
fn the_correct_service_keeps_every_promise() {
    let ws = workspace(&[]);
    let out = run(ws.path());
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("15 scenarios (15 passed)"), "{}", out.stdout);
}

#[test]
fn no_idempotency_is_caught() {
    assert_caught(
        "no-idempotency",
        &["A webhook delivered twice opens one incident"],
        "expected exactly 1 createIncident request(s) to \"incidents\" within 2 s, received 2",
    );
}

#[test]
fn ignoring_retry_after_is_caught() {
    assert_caught(
        "ignore-retry-after",
        &[
            "The service waits as long as Retry-After says before trying again",
            "A burst of escalations stays within the partner's rate limit and every incident opens",
        ],
        "createIncident requests were only",
    );
}

#[test]
fn no_token_refresh_is_caught() {
    assert_caught(
        "no-refresh",
        &[
            "A revoked token is refreshed and the incident still opens",
            "When its refresh token is revoked too, the service reconnects with its credentials",
        ],
        "expected at least 2 createIncident request(s) to \"incidents\" answered 201 within 5 s, got 1",
    );
}

#[test]
fn accepting_bad_signatures_is_caught() {
    assert_caught(
        "accept-bad-signature",
        &[
            "A webhook with a bad signature is refused and opens nothing",
            "A webhook signed too long ago is refused (a replayed delivery)",
        ],
        "the system under test answered the ticket.escalated webhook 202 (expected 401)",
    );
}

#[test]
fn out_of_order_overwrites_are_caught() {
    assert_caught(
        "out-of-order-overwrites",
        &["An older event that arrives after a newer one changes nothing"],
        "expected exactly 1 createIncident request(s) to \"incidents\" within 2 s, received 2",
    );
}

#[test]
fn crashing_on_a_large_payload_is_caught() {
    let ws = workspace(&["crash-on-large-payload"]);
    let scenario = "An oversized payload is refused with 413 and the service keeps working";
    let out = run_only(ws.path(), &[scenario]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(failed(&out), [scenario], "{}", out.stdout);
    assert!(
        out.stdout.contains("with no answer at all (expected 413)"),
        "{}",
        out.stdout
    );
    // The service's own last words are shown.
    assert!(
        out.stdout.contains("the system under test's last output"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("the service crashes"), "{}", out.stdout);
}

#[test]
fn a_wrong_default_severity_is_caught() {
    assert_caught(
        "wrong-default-severity",
        &[
            "A ticket without a priority opens a severity 2 incident, the mapping's default",
            "Any escalated ticket opens an incident whose severity follows the priority mapping",
        ],
        "/severity: expected 2, got 3",
    );
}

#[test]
fn generated_payloads_find_the_wrong_default_and_shrink_it() {
    let ws = workspace(&["wrong-default-severity"]);
    let out = contrail_env(
        ws.path(),
        &["run", "--color", "never", "--name", "Any escalated ticket"],
        &[("CONTRAIL_SEED", "42")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let text = &out.stdout;
    assert!(
        text.contains("for a missing value (the default) the contract says 2, the request has 3"),
        "{text}"
    );
    // The smallest failing payload has no priority left, and the seed is printed.
    let smallest = text
        .lines()
        .find(|l| l.contains("smallest failing ticket.escalated payload"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(!smallest.contains("priority"), "{smallest}");
    assert!(text.contains("CONTRAIL_SEED=42 repeats this run"), "{text}");
}

#[test]
fn ignoring_a_missing_scope_is_caught() {
    assert_caught(
        "ignore-forbidden",
        &["Without the write scope the service pauses writes and says which scope is missing"],
        "the system under test's /status never matched",
    );
}

#[test]
fn retrying_an_outage_without_backing_off_is_caught() {
    assert_caught(
        "no-backoff",
        &["Through an outage the service backs off exponentially, then gives up and says so"],
        "the createIncident retries do not back off exponentially",
    );
}
