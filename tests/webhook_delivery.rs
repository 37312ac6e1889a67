//! Webhook delivery against the demo integration: the partner's retry policy (on 5xx the
//! webhook is delivered again as the contract says, and a step counts the attempts), both ways.

mod common;

use common::{contrail, copy_dir, repo};

fn workspace(feature: &str) -> tempfile::TempDir {
    let ws = common::workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::remove_dir_all(ws.path().join("features")).expect("features");
    std::fs::create_dir_all(ws.path().join("features")).expect("features");
    std::fs::write(ws.path().join("features/f.feature"), feature).expect("feature");
    let command = [
        env!("CARGO_BIN_EXE_contrail-demo-integration"),
        "--port",
        "{port}",
        "--incidents-url",
        "{partners.incidents.url}",
        "--token-url",
        "{partners.incidents.token_url}",
        "--unavailable-first",
        "2",
    ];
    let toml = format!(
        "[sut]\ncommand = {command:?}\nready = \"/health\"\nper_scenario = true\n\n[sut.webhooks]\nticketing = \"/webhooks/ticketing\"\n"
    );
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
