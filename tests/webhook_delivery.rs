//! Webhook delivery against the demo integration: the partner's retry policy (on 5xx the
//! webhook is delivered again as the contract says, and a step counts the attempts), both ways.

mod common;

use common::{contrail, copy_dir, repo};

fn workspace(feature: &str) -> tempfile::TempDir {
    workspace_with(feature, &["--unavailable-first", "2"])
}

/// The bundled workspace (recordings included) with this one feature, and the demo
/// integration as a fresh system under test per scenario, called with `sut_args`.
fn workspace_with(feature: &str, sut_args: &[&str]) -> tempfile::TempDir {
    let ws = common::workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::remove_dir_all(ws.path().join("features")).expect("features");
    std::fs::create_dir_all(ws.path().join("features")).expect("features");
    std::fs::write(ws.path().join("features/f.feature"), feature).expect("feature");
    let toml = common::demo_sut_toml(sut_args, "per_scenario = true\n", "");
    std::fs::write(ws.path().join("contrail.toml"), toml).expect("contrail.toml");
    ws
}

const SEND: &str = "    When \"ticketing\" sends the \"ticket.escalated\" webhook:\n      \"\"\"json\n      { \"ticket\": { \"id\": \"T-1\", \"title\": \"Deploy\", \"priority\": \"high\", \"link\": \"https://desk.example/tickets/T-1\" } }\n      \"\"\"\n";

#[test]
fn with_retries_on_a_webhook_answered_503_is_delivered_again() {
    let feature = format!(
        "@sut\nFeature: f\n  Scenario: retried\n    Given the contract \"support-escalation\"\n    And \"ticketing\" retries undelivered webhooks as the contract says\n{SEND}    Then the system under test answers 202\n    And that webhook took 3 attempts\n    And within 2 seconds \"incidents\" receives exactly 1 \"createIncident\" request\n"
    );
    let out = contrail(workspace(&feature).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn without_retries_the_503_stands_and_the_checks_say_so() {
    let feature = format!(
        "@sut\nFeature: f\n  Scenario: not retried\n    Given the contract \"support-escalation\"\n{SEND}    Then the system under test answers 202\n"
    );
    let out = contrail(workspace(&feature).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("the system under test answered the ticket.escalated webhook 503 (expected 202)"),
        "{}",
        out.stdout
    );
    let feature = format!(
        "@sut\nFeature: f\n  Scenario: retried too little\n    Given the contract \"support-escalation\"\n{SEND}    Then that webhook took 3 attempts\n"
    );
    let out = contrail(workspace(&feature).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("took 1 attempt(s), expected 3"), "{}", out.stdout);
}

/// A payload is data: sent from a file byte for byte (spacing, key order, a "#..." string and
/// a GitHub-Actions-like `${{ ... }}` untouched, signed over exactly those bytes), and a
/// "#..." string in a doc-string payload is no marker to lint.
#[test]
fn a_payload_file_is_sent_byte_for_byte_and_payloads_are_data() {
    let payload = "{ \"type\": \"ticket.escalated\", \"id\" : \"evt_0123456789ab\", \"occurred_at\": \"2026-11-28T06:00:00Z\",\n  \"ticket\" :{\"title\": \"# Deploy ${{ secrets.TOKEN }}\",  \"id\": \"T-9\", \"priority\": \"high\", \"link\": \"https://desk.example/tickets/T-9\" } }\n";
    let feature = "@sut\nFeature: f\n  Scenario Outline: from a file\n    Given the contract \"support-escalation\"\n    When \"ticketing\" sends the \"ticket.escalated\" webhook from the file \"payloads/<file>\"\n    Then the system under test answers 202\n\n    Examples:\n      | file        |\n      | odd.json    |\n";
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.bin");
    let kept_arg = kept.display().to_string();
    let ws = workspace_with(feature, &["--keep-webhooks", &kept_arg]);
    std::fs::create_dir_all(ws.path().join("payloads")).unwrap();
    std::fs::write(ws.path().join("payloads/odd.json"), payload).unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        payload,
        "the bytes sent are the file's"
    );

    // A doc-string payload with a "#..." string lints clean (it is data, not a pattern).
    std::fs::write(
        ws.path().join("features/f.feature"),
        "@sut\nFeature: f\n  Scenario: doc\n    Given the contract \"support-escalation\"\n    When \"ticketing\" sends the \"ticket.escalated\" webhook:\n      \"\"\"json\n      { \"ticket\": { \"id\": \"T-1\", \"title\": \"# heading\", \"priority\": \"high\", \"link\": \"https://desk.example/tickets/T-1\" } }\n      \"\"\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// Header steps apply to webhook deliveries: a scenario that replaces the signature header
/// gets the refusal, the same scenario without it the acceptance.
#[test]
fn a_header_step_applies_to_the_next_webhook() {
    let base = "@sut\nFeature: f\n  Scenario: signature\n    Given the contract \"support-escalation\"\n";
    let sent = "    When \"ticketing\" sends the \"ticket.escalated\" webhook\n";
    let kept = format!("{base}{sent}    Then the system under test answers 202\n");
    let ws = workspace_with(&kept, &[]);
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());

    let replaced = format!(
        "{base}    And the header \"Stripe-Signature\" is \"t=1,v1=00\"\n{sent}    Then the system under test answers 401\n"
    );
    std::fs::write(ws.path().join("features/f.feature"), replaced).unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
