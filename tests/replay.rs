//! Record and replay: the bundled suite replays offline from the committed recordings; a
//! request that differs from every recording fails naming the field and the closest one;
//! secrets never reach a recording; replay never leaves the machine.

mod common;
use common::*;

#[test]
fn the_bundled_suite_replays_offline_from_the_committed_recordings() {
    // No partner is running: every answer comes from recordings/. (The @sut feature needs the
    // demo integration built in release; tests/sut_bugs.rs runs it with the test build.)
    let out = contrail(
        &repo(),
        &["run", "--color", "never", "--jobs", "16", "--tags", "not @sut"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("24 scenarios (24 passed)"), "{}", out.stdout);
    assert!(out.stderr.contains("ticketing: replaying"), "{}", out.stderr);
}

#[test]
fn a_request_unlike_any_recording_fails_naming_the_field_and_the_closest() {
    // The same scenario, one field of its body changed.
    let ws = edited_tickets(|t| {
        t.replacen(
            r#"{ "title": "Printer on fire", "priority": "high", "customer_id": "C-1" }"#,
            r#"{ "title": "Printer in flames", "priority": "high", "customer_id": "C-1" }"#,
            1,
        )
    });
    let out = contrail(
        ws.path(),
        &[
            "run",
            "features/tickets.feature",
            "--color",
            "never",
            "--name",
            "A new ticket is created",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let text = &out.stdout;
    assert!(
        text.contains("replay: no recorded interaction of \"ticketing\" matches POST /tickets"),
        "{text}"
    );
    assert!(
        text.contains("closest recording: ") && text.contains("createTicket-"),
        "{text}"
    );
    assert!(
        text.contains(r#"body /title: recorded "Printer on fire", got "Printer in flames" (a string)"#),
        "{text}"
    );
}

#[test]
fn key_order_and_whitespace_do_not_matter_in_replay() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    // The same body as tickets.feature's first scenario, keys reordered and spread out.
    std::fs::write(
        ws.path().join("features/reordered.feature"),
        concat!(
            "Feature: The ticketing API keeps its contract\n",
            "  Scenario: A new ticket is created as the contract describes\n",
            "    Given the contract \"support-escalation\"\n",
            "    When I call \"createTicket\" with the body:\n",
            "      \"\"\"json\n",
            "      {\n        \"customer_id\" :   \"C-1\",\n        \"title\": \"Printer on fire\",\n        \"priority\": \"high\"\n      }\n",
            "      \"\"\"\n",
            "    Then the response status is 201\n",
            "    And the response matches the contract\n",
        ),
    )
    .unwrap();
    let out = contrail(ws.path(), &["run", "features/reordered.feature", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn recording_never_writes_a_secret_and_the_recording_replays() {
    let partner = start_partner(&[]);
    let ws = workspace_copy();
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    std::fs::write(
        ws.path().join("features/secrets.feature"),
        concat!(
            "Feature: secrets\n",
            "  Scenario: Secrets in a header, a query parameter and a body field\n",
            "    Given the contract \"support-escalation\"\n",
            "    And the header \"X-Api-Key\" is \"SEKRIT-HEADER-1\"\n",
            "    And the query parameter \"api_key\" is \"SEKRIT-QUERY-2\"\n",
            "    When I call \"createTicket\" with the body:\n",
            "      \"\"\"json\n",
            "      { \"title\": \"t\", \"customer_id\": \"C-1\", \"client_secret\": \"SEKRIT-BODY-3\" }\n",
            "      \"\"\"\n",
            "    Then the response status is 201\n",
        ),
    )
    .unwrap();
    // The OAuth client secret travels in the token request too.
    let env = [("TICKETING_CLIENT_SECRET", "qa-secret")];
    let mut args = vec!["run", "--target", "record", "--color", "never"];
    let urls = both_partners(&partner.url);
    args.extend(urls.iter().map(String::as_str));
    let out = contrail_env(ws.path(), &args, &env);
    assert_eq!(out.code, 0, "{}", out.all());
    drop(partner);

    let mut files = 0;
    let mut operations = Vec::new();
    for dir in ["recordings/ticketing", "recordings/incidents"] {
        for e in std::fs::read_dir(ws.path().join(dir)).into_iter().flatten() {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            files += 1;
            for secret in [
                "SEKRIT-HEADER-1",
                "SEKRIT-QUERY-2",
                "SEKRIT-BODY-3",
                "qa-secret",
                "tok_",
            ] {
                assert!(!text.contains(secret), "{secret} was written to a recording:\n{text}");
            }
            // And not base64-encoded either (Basic auth carries "id:secret").
            assert!(!text.contains("cWEtc2VjcmV0"), "{text}");
            // The partner's time is kept for latency budgets in replay.
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(v["meta"]["took_ms"].as_u64().is_some(), "{}", v["meta"]);
            operations.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                v["meta"]["operation"].clone(),
            ));
        }
    }
    assert!(files >= 2, "the token request and the call were recorded");
    // The recorder names the contract's operation, though no policy rule needed it found.
    assert!(
        operations
            .iter()
            .any(|(file, op)| file.starts_with("createTicket-") && op == "createTicket"),
        "{operations:?}"
    );

    // The partner is gone: replay answers, with the redacted values still matching.
    let out = contrail_env(ws.path(), &["run", "--color", "never"], &env);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn replay_never_leaves_the_machine() {
    let ws = tiny_workspace(
        "contract: tiny\nversion: \"1\"\npartners:\n  api:\n    auth: { type: oauth2-client-credentials, token_url: \"https://auth.partner.example/token\", client_id: a, client_secret: b }\n    operations:\n      - { id: getThing, method: GET, path: /things }\n",
        "Feature: f\n  Scenario: s\n    Given the contract \"tiny\"\n    When I call \"getThing\"\n",
    );
    let out = contrail(ws.path(), &["run", "--target", "replay", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "replay never leaves this machine: refusing to send a request to https://auth.partner.example/token"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_broken_recording_is_bad_input_named_by_file_and_line() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let broken = ws.path().join("recordings/ticketing/getTicket-broken.json");
    std::fs::write(&broken, "{\n  \"meta\": {\n    \"sequence\": \"one\"\n").unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("getTicket-broken.json:"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("recordings/ticketing/getTicket-broken.json:"),
        "{}",
        out.stderr
    );
}

#[test]
fn comments_reordering_and_moving_a_feature_keep_replay_green() {
    let ws = edited_tickets(|t| {
        // A comment on top, and the first two scenarios swapped.
        let first = t.find("  Scenario: A new ticket").unwrap();
        let second = t.find("  Scenario: A ticket can be read back").unwrap();
        let third = t.find("  Scenario: Open tickets can be listed").unwrap();
        format!(
            "# Owner: the QA team\n# (a comment moves every line down)\n{}{}{}{}",
            &t[..first],
            &t[second..third],
            &t[first..second],
            &t[third..]
        )
    });
    std::fs::create_dir_all(ws.path().join("features/moved")).unwrap();
    std::fs::rename(
        ws.path().join("features/tickets.feature"),
        ws.path().join("features/moved/tickets.feature"),
    )
    .unwrap();
    let out = contrail(
        ws.path(),
        &["run", "--color", "never", "--jobs", "8", "--tags", "not @sut"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        !out.stderr.contains("stale"),
        "nothing changed in the steps: {}",
        out.stderr
    );
    let out = contrail(ws.path(), &["lint", "--stale"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_renamed_scenario_is_told_it_has_no_recordings() {
    let ws = edited_tickets(|t| t.replace("Scenario: A ticket can be read back", "Scenario: A ticket reads back"));
    let out = contrail(ws.path(), &["run", "features/tickets.feature", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "no recordings of \"ticketing\" for this scenario (The ticketing API keeps its contract: A ticket reads \
             back): new or renamed? record it with `--record-missing`"
        ),
        "{}",
        out.stdout
    );
    // Only that scenario failed: the others still replay their own recordings.
    assert!(
        out.stdout.contains("(2 passed, 1 failed)") || out.stdout.contains("1 failed"),
        "{}",
        out.stdout
    );
    let out = contrail(ws.path(), &["lint", "--stale"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "orphaned: no scenario is named \"The ticketing API keeps its contract: A ticket can be read back\""
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unauthenticated_call_never_gets_the_authenticated_answer_and_changed_steps_are_stale() {
    let ws = edited_tickets(|t| {
        t.replace(
            "  Scenario: A ticket can be read back\n    Given a ticket with priority \"low\" exists\n    And the path parameter \"id\" is \"${ticket_id}\"\n",
            "  Scenario: A ticket can be read back\n    Given a ticket with priority \"low\" exists\n    And the path parameter \"id\" is \"${ticket_id}\"\n    And I am not authenticated\n",
        )
    });
    let out = contrail(ws.path(), &["run", "features/tickets.feature", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("credentials: recorded with authorization, sent with no credentials"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("was recorded when the steps of \"The ticketing API keeps its contract: A ticket can be read back\" were different"),
        "{}",
        out.stderr
    );
    let out = contrail(ws.path(), &["lint", "--stale"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "stale: the steps of \"The ticketing API keeps its contract: A ticket can be read back\" changed"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn two_scenarios_with_one_name_are_refused() {
    let ws = edited_tickets(|t| {
        t.replace(
            "Scenario: Open tickets can be listed",
            "Scenario: A ticket can be read back",
        )
    });
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("a second scenario named \"The ticketing API keeps its contract: A ticket can be read back\""),
        "{}",
        out.stderr
    );
}
