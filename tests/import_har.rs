//! `contrail import har`: real traffic, captured by mitmproxy 11 in front of the demo partner
//! (tests/fixtures/har/demo-partner.har: a token request with Basic credentials, then create,
//! list and read a ticket with a bearer token), becomes recordings with every credential
//! redacted, matched to the contract's operations, that replay green, and that a changed
//! expectation fails.

mod common;

use common::{contrail, repo, workspace_copy};

const FEATURE: &str = r#"Feature: Traffic from a browser session replays

  Background:
    Given the contract "support-escalation"

  Scenario: The ticket from the session can be read
    Given the path parameter "id" is "T-1"
    When I call "getTicket"
    Then the response status is 200
    And the response matches the contract
    And the response field "title" is "Printer on fire"

  Scenario: The open tickets from the session can be listed
    Given the query parameter "status" is "open"
    When I call "listTickets"
    Then the response status is 200
    And the response field "total" is 1
"#;

#[test]
fn a_har_becomes_redacted_recordings_that_replay_green() {
    let ws = workspace_copy();
    let features = ws.path().join("features");
    std::fs::remove_dir_all(&features).unwrap();
    std::fs::create_dir_all(&features).unwrap();
    std::fs::write(features.join("imported.feature"), FEATURE).unwrap();
    let har = repo().join("tests/fixtures/har/demo-partner.har");
    let raw = std::fs::read_to_string(&har).unwrap();
    // The file really holds the credentials the import must not keep.
    let token = "tok_031870b1fb195208ab8ebab8b1a2e2ac";
    let basic = "Y29udHJhaWwtcWE6cWEtc2VjcmV0"; // contrail-qa:qa-secret
    assert!(raw.contains(token) && raw.contains(basic));

    let out = contrail(
        ws.path(),
        &["import", "har", har.to_str().unwrap(), "--partner", "ticketing"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("4 recording(s) of \"ticketing\" written"),
        "{}",
        out.stdout
    );
    let dir = ws.path().join("recordings/ticketing");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let stems: Vec<&str> = names
        .iter()
        .map(|n| n.rsplit_once('-').map_or(n.as_str(), |(s, _)| s))
        .collect();
    assert_eq!(stems, ["createTicket", "getTicket", "listTickets", "post-oauth-token"]);
    for n in &names {
        let text = std::fs::read_to_string(dir.join(n)).unwrap();
        for secret in [token, basic, "qa-secret"] {
            assert!(!text.contains(secret), "{n} holds {secret}");
        }
        // The partner's time from the HAR entry (1.96-3.08 ms, rounded), which replay reports
        // as the partner's time for latency budgets.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            matches!(v["meta"]["took_ms"].as_u64(), Some(2 | 3)),
            "{n}: {}",
            v["meta"]
        );
    }
    let lint = contrail(ws.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{}", lint.all());
    let run = contrail(ws.path(), &["run", "--target", "replay", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("2 scenarios (2 passed)"), "{}", run.stdout);

    // Imported again: nothing recorded is replaced.
    let before: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect();
    let out = contrail(
        ws.path(),
        &["import", "har", har.to_str().unwrap(), "--partner", "ticketing"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("4 already recorded (kept as they were)"),
        "{}",
        out.stdout
    );
    let after: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);

    // The same scenario with a wrong expectation fails against the imported answer.
    std::fs::write(
        features.join("imported.feature"),
        FEATURE.replace("\"total\" is 1", "\"total\" is 2"),
    )
    .unwrap();
    let run = contrail(ws.path(), &["run", "--target", "replay", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("/total: expected 2, got 1"), "{}", run.stdout);
}

#[test]
fn what_is_not_a_har_is_refused_naming_the_file() {
    let ws = workspace_copy();
    let bad = ws.path().join("bad.har");
    std::fs::write(&bad, "{\n  \"log\": {\n    \"entries\": [ oops ]\n  }\n}\n").unwrap();
    let out = contrail(
        ws.path(),
        &["import", "har", bad.to_str().unwrap(), "--partner", "ticketing"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("bad.har") && out.stderr.contains(":3"),
        "{}",
        out.stderr
    );
    std::fs::write(&bad, "{\"entries\": []}").unwrap();
    let out = contrail(
        ws.path(),
        &["import", "har", bad.to_str().unwrap(), "--partner", "ticketing"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not a HAR file"), "{}", out.stderr);
    let out = contrail(
        ws.path(),
        &["import", "har", bad.to_str().unwrap(), "--partner", "billing"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!ws.path().join("recordings").exists(), "nothing was written");
}
