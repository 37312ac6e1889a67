//! Faults and the journal: a journal verdict fails, listing what arrived, when the count is
//! wrong; 64 scenarios programming different faults on the same operation, 16 at a time, never
//! see each other's faults or requests. A latency budget in replay is judged on the partner's
//! time (recorded, plus any programmed delay), not on how busy the machine is.

mod common;
use common::*;

/// The bundled workspace with one feature of the test's, and the bundled "A slow partner"
/// answer to createIncident recorded as no scenario's (as `contrail mock` records for another
/// tool): the scenarios here are new, and a scenario's own recordings would answer only it.
fn workspace_with(feature: &str) -> tempfile::TempDir {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    std::fs::write(ws.path().join("features/f.feature"), feature).unwrap();
    let dir = ws.path().join("recordings/incidents");
    let shared = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find_map(|p| {
            let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            if v["meta"]["scenario"] != "Faults and the request journal: A slow partner" {
                return None;
            }
            let meta = v["meta"].as_object_mut()?;
            meta.remove("scenario");
            meta.remove("steps");
            Some(v)
        })
        .expect("the bundled recording of \"A slow partner\"");
    std::fs::write(
        dir.join("createIncident-shared.json"),
        serde_json::to_string_pretty(&shared).unwrap(),
    )
    .unwrap();
    ws
}

const BODY: &str = "    And the request body is:\n      \"\"\"json\n      { \"title\": \"Disk full\", \"severity\": 2, \"link\": \"https://desk.example/tickets/T-9007\", \"external_id\": \"T-9007\" }\n      \"\"\"\n";

#[test]
fn exactly_one_fails_when_two_arrive_and_lists_them() {
    let feature = format!(
        "Feature: duplicates\n  Scenario: one expected, two sent\n    Given the contract \"support-escalation\"\n{BODY}    When I call \"createIncident\" 2 times\n    Then within 120 seconds \"incidents\" receives exactly 1 \"createIncident\" request\n"
    );
    let ws = workspace_with(&feature);
    let started = std::time::Instant::now();
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let text = &out.stdout;
    assert!(
        text.contains("expected exactly 1 createIncident request(s) to \"incidents\" within 120 s, received 2"),
        "{text}"
    );
    assert!(text.contains("+0 ms: POST /incidents -> 201"), "{text}");
    // It failed as soon as the second request was there: waiting out the window would take
    // 120 s, and the whole run (build-free, a few seconds) stays far below that however loaded
    // the machine is.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "it waited out the window"
    );
}

#[test]
fn the_same_scenario_passes_when_one_arrives() {
    let feature = format!(
        "Feature: one\n  Scenario: one expected, one sent\n    Given the contract \"support-escalation\"\n{BODY}    When I call \"createIncident\"\n    Then within 1 seconds \"incidents\" receives exactly 1 \"createIncident\" request\n"
    );
    let out = contrail(workspace_with(&feature).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn concurrent_scenarios_never_see_each_others_faults_or_requests() {
    // Each row throttles a different number of calls with a different status; if a fault or a
    // journal entry leaked between scenarios, a count or a status would be off.
    let mut rows = String::new();
    for i in 0..64 {
        let faults = 1 + i % 4;
        let status = [429, 500, 502, 503][i % 4];
        rows.push_str(&format!("      | {faults} | {status} | {} |\n", faults + 1));
    }
    let feature = format!(
        "Feature: isolation\n  Scenario Outline: faults of their own\n    Given the contract \"support-escalation\"\n{BODY}    And \"incidents\" answers the next <faults> \"createIncident\" calls with <status>\n    When I call \"createIncident\" <calls> times\n    Then one of those calls was answered <status>\n    And one of those calls was answered 201\n    And within 1 seconds \"incidents\" receives exactly <calls> \"createIncident\" requests\n\n    Examples:\n      | faults | status | calls |\n{rows}"
    );
    let out = contrail(
        workspace_with(&feature).path(),
        &["run", "--color", "never", "--jobs", "16"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("64 scenarios (64 passed)"), "{}", out.stdout);
}

#[test]
fn fault_steps_say_they_need_a_mock_server_on_a_live_run() {
    let partner = start_partner(&[]);
    let ws = workspace_with(
        "Feature: f\n  Scenario: s\n    Given the contract \"support-escalation\"\n    And \"incidents\" answers the next 1 \"createIncident\" calls with 503\n",
    );
    // Without recordings a live run talks to the sandbox directly: no proxy to program. (With
    // them it goes through drift's comparing proxies, where faults work.)
    std::fs::remove_dir_all(ws.path().join("recordings")).unwrap();
    let mut args = vec!["run", "--target", "live", "--color", "never"];
    let urls = both_partners(&partner.url);
    args.extend(urls.iter().map(String::as_str));
    let out = contrail(ws.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("\"incidents\" has no contrail mock server in this run"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_delay_fault_really_delays() {
    let slow = format!(
        "Feature: slow\n  Scenario: delayed\n    Given the contract \"support-escalation\"\n{BODY}    And \"incidents\" delays the next 1 \"createIncident\" calls by 4000 ms\n    When I call \"createIncident\"\n    Then the response arrives within 2000 ms\n"
    );
    let out = contrail(workspace_with(&slow).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("over the step's limit of 2000 ms"),
        "{}",
        out.stdout
    );
    // The same call without the fault is fast. The margins are wide (a mock's answer against
    // 2 s; a 4 s delay against 2 s) so a loaded 2-core CI machine cannot turn either way.
    let fast = slow.replace(
        "    And \"incidents\" delays the next 1 \"createIncident\" calls by 4000 ms\n",
        "",
    );
    let out = contrail(workspace_with(&fast).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_dropped_connection_fails_the_call_and_is_journalled() {
    let dropped = format!(
        "Feature: drop\n  Scenario: dropped\n    Given the contract \"support-escalation\"\n{BODY}    And \"incidents\" drops the connection on the next 1 \"createIncident\" calls\n    When I call \"createIncident\"\n"
    );
    let out = contrail(workspace_with(&dropped).path(), &["run", "--color", "never"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("the request to http://127.0.0.1:") && out.stdout.contains("/incidents failed"),
        "{}",
        out.stdout
    );
}

#[test]
fn spacing_between_requests_is_checked_both_ways() {
    // Two calls back to back are not 1 s apart.
    let close = format!(
        "Feature: spacing\n  Scenario: back to back\n    Given the contract \"support-escalation\"\n{BODY}    When I call \"createIncident\" 2 times\n    Then consecutive \"createIncident\" requests are at least 1 seconds apart\n"
    );
    let out = contrail(workspace_with(&close).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("two createIncident requests were only"),
        "{}",
        out.stdout
    );
    // When the first answer takes 1.1 s, the second request arrives at least that much later.
    let spaced = close.replace(
        "    When I call",
        "    And \"incidents\" delays the next 1 \"createIncident\" calls by 1100 ms\n    When I call",
    );
    let out = contrail(workspace_with(&spaced).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// One scenario calling createIncident after `given` (a fault step or nothing).
fn one_call(given: &str) -> String {
    format!(
        "Feature: f\n  Scenario: s\n    Given the contract \"support-escalation\"\n{BODY}{given}    When I call \"createIncident\"\n    Then the response status is 201\n"
    )
}

#[test]
fn a_body_cut_short_fails_the_call_as_the_partners_doing() {
    let out = contrail(
        workspace_with(&one_call(
            "    And \"incidents\" cuts the body short on the next 1 \"createIncident\" calls\n",
        ))
        .path(),
        &["run", "--color", "never"],
    );
    // Exit 1, not 3: the partner answered, and its answer was broken.
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("was cut short after"), "{}", out.stdout);
    assert!(out.stdout.contains("announced"), "{}", out.stdout);
    // The same scenario without the fault passes.
    let out = contrail(workspace_with(&one_call("")).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn an_oversized_body_is_refused_by_the_client_limit_and_a_small_one_is_not() {
    let big = one_call("    And \"incidents\" answers the next 1 \"createIncident\" calls with a body of 11 MB\n");
    let out = contrail(workspace_with(&big).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("larger than the 10485760-byte limit"),
        "{}",
        out.stdout
    );

    let small = format!(
        "Feature: f\n  Scenario: s\n    Given the contract \"support-escalation\"\n{BODY}    And \"incidents\" answers the next 1 \"createIncident\" calls with a body of 2 KB\n    When I call \"createIncident\"\n    Then the response status is 201\n    And the response body matches:\n      \"\"\"json\n      {{ \"padding\": \"#string\" }}\n      \"\"\"\n"
    );
    let out = contrail(workspace_with(&small).path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());

    let bad = one_call("    And \"incidents\" answers the next 1 \"createIncident\" calls with a body of 2 TB\n");
    let out = contrail(workspace_with(&bad).path(), &["run", "--color", "never"]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.all().contains("\"TB\" is not a size unit"), "{}", out.all());
}

/// One call to createIncident, `delay_ms` programmed first (none when 0), then the latency
/// budget (500 ms for "incidents"); the shared recording says the partner took `took_ms`.
fn latency_run(delay_ms: u64, took_ms: Option<u64>) -> Output {
    let delay = if delay_ms > 0 {
        format!("    Given \"incidents\" delays the next 1 \"createIncident\" calls by {delay_ms} ms\n")
    } else {
        String::new()
    };
    let feature = format!(
        "Feature: latency\n  Scenario: one call against the budget\n    Given the contract \"support-escalation\"\n{delay}{BODY}    When I call \"createIncident\"\n    Then the response status is 201\n    And the response arrives within the partner's latency budget\n"
    );
    let ws = workspace_with(&feature);
    let shared = ws.path().join("recordings/incidents/createIncident-shared.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&shared).unwrap()).unwrap();
    if let Some(took) = took_ms {
        v["meta"]["took_ms"] = took.into();
    }
    std::fs::write(&shared, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    contrail(ws.path(), &["run", "--color", "never"])
}

#[test]
fn a_partner_within_its_latency_budget_passes_in_replay() {
    // 100 ms programmed, 300 ms when recorded: 400 ms, whatever the replay itself took.
    let out = latency_run(100, Some(300));
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_slow_partner_fails_its_latency_budget_in_replay_by_the_partners_time() {
    // 700 ms programmed; then 300 ms recorded and 300 ms programmed: the recorded time counts.
    for (delay_ms, took_ms, said) in [(700, None, 700), (300, Some(300), 600)] {
        let out = latency_run(delay_ms, took_ms);
        assert_eq!(out.code, 1, "{}", out.all());
        let want = format!("the response took {said} ms, over the partner's latency budget of 500 ms");
        assert!(out.stdout.contains(&want), "{}", out.all());
    }
}
