//! `contrail lint`: each problem names file and line, with a suggestion where one helps.

mod common;
use common::*;

#[test]
fn the_bundled_workspace_is_clean() {
    let out = contrail(&repo(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("no problems"), "{}", out.stdout);
}

#[test]
fn an_undefined_step_is_located_with_the_closest_step() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("features/typo.feature"),
        "Feature: typo\n  Scenario: a typo\n    Given the contract \"support-escalation\"\n    When I call \"listTickets\"\n    Then the response statis is 200\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("features/typo.feature:5:5: undefined step: the response statis is 200"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean: Then the response status is 201"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_operation_id_is_located_with_a_suggestion() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("features/op.feature"),
        "Feature: op\n  Background:\n    Given the contract \"support-escalation\"\n\n  Scenario: bad op\n    When I call \"getTickets\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("features/op.feature:6:5: the contract \"support-escalation\" has no operation \"getTickets\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("did you mean \"getTicket\"?"), "{}", out.stderr);
}

#[test]
fn unknown_contract_mapping_and_bad_json_are_located() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("features/refs.feature"),
        concat!(
            "Feature: refs\n",
            "  Scenario: wrong names\n",
            "    Given the contract \"support-escalation\"\n",
            "    When I call \"listTickets\"\n",
            "    Then the response field \"x\" follows the mapping \"no_such_mapping\" from \"high\"\n",
            "    And the response body matches:\n",
            "      \"\"\"\n",
            "      { \"a\": \"#strnig\" }\n",
            "      \"\"\"\n",
            "  Scenario: wrong contract\n",
            "    Given the contract \"nope\"\n",
            "    When I call \"listTickets\" with the body:\n",
            "      \"\"\"\n",
            "      { not json\n",
            "      \"\"\"\n",
        ),
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let e = &out.stderr;
    assert!(
        e.contains("features/refs.feature:5:5: the contract \"support-escalation\" has no mapping \"no_such_mapping\""),
        "{e}"
    );
    assert!(
        e.contains("features/refs.feature:6:5: in the doc string: unknown marker \"#strnig\""),
        "{e}"
    );
    assert!(
        e.contains("features/refs.feature:11:5: no contract named \"nope\""),
        "{e}"
    );
    assert!(
        e.contains("features/refs.feature:12:5: the doc string is not valid JSON"),
        "{e}"
    );
}

#[test]
fn a_malformed_contract_is_located_to_line_and_column() {
    let ws = workspace_copy();
    let path = ws.path().join("contracts/support-escalation.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("      requests: 5\n", "      requests: five\n");
    std::fs::write(&path, text).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("contracts/support-escalation.yaml:24:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_declarative_step_that_expands_to_nothing_is_located() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("steps/bad.yaml"),
        "steps:\n  - phrase: the moon is full\n    do:\n      - I howl at \"${moon}\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("steps/bad.yaml:4:1: the expansion step \"I howl at \\\"${moon}\\\"\" matches no known step"),
        "{}",
        out.stderr
    );
}

#[test]
fn steps_prints_the_registry_the_runner_uses() {
    let out = contrail(&repo(), &["steps", "--json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let phrases: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["phrase"].as_str().unwrap())
        .collect();
    let builtin = contrail::steps::builtin_registry();
    for d in builtin.defs() {
        assert!(
            phrases.contains(&d.phrase.text.as_str()),
            "{} missing from `contrail steps`",
            d.phrase.text
        );
    }
    // The project's declarative steps are there too, with where they come from.
    let ours = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["phrase"] == "a ticket with priority {priority} exists")
        .unwrap();
    assert!(
        ours["origin"].as_str().unwrap().starts_with("steps/support.yaml:"),
        "{ours}"
    );
}

#[test]
fn webhook_steps_are_checked_against_the_contract() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("features/hooks.feature"),
        concat!(
            "@sut\nFeature: hooks\n  Scenario: s\n    Given the contract \"support-escalation\"\n",
            "    When \"ticketing\" sends the \"ticket.escalatd\" webhook\n",
            "    And \"incidents\" sends the \"ticket.escalated\" webhook\n",
            "    And \"ticketing\" sends 3 generated \"ticket.escalated\" webhooks, each checked with:\n",
            "      \"\"\"\n      Then the system under test answerz 202\n      \"\"\"\n",
        ),
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let e = &out.stderr;
    assert!(
        e.contains("hooks.feature:5:5: the contract \"support-escalation\" declares no webhook \"ticket.escalatd\" (webhooks: ticket.escalated)"),
        "{e}"
    );
    assert!(
        e.contains("hooks.feature:6:5: the webhook \"ticket.escalated\" comes from \"ticketing\", not \"incidents\""),
        "{e}"
    );
    assert!(
        e.contains("hooks.feature:7:5: in the doc string: undefined step: the system under test answerz 202"),
        "{e}"
    );
}

#[test]
fn a_committed_recording_holding_a_secret_fails_lint_without_printing_it() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let file = ws.path().join("recordings/ticketing/createTicket-ede14e335138.json");
    let text = std::fs::read_to_string(&file).unwrap();
    // Someone hand-edited a recording, or recorded it with an older contrail.
    let leaked = text
        .replace(
            "\"title\": \"Printer on fire\"\n      }\n    }\n  },\n  \"response\"",
            "\"title\": \"Printer on fire\",\n        \"webhook_secret\": \"whs-LEAK-1234\"\n      }\n    }\n  },\n  \"response\"",
        )
        .replace(
            "\"status\": \"open\",",
            "\"status\": \"open\",\n        \"note\": \"ghp_0123456789abcdefghijklmnopqrstuvwxyz\",",
        );
    assert_ne!(leaked, text);
    std::fs::write(&file, &leaked).unwrap();

    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    for pointer in ["/request/body/json/webhook_secret", "/response/body/json/note"] {
        assert!(
            out.stderr.contains("createTicket-ede14e335138.json")
                && out.stderr.contains(pointer)
                && out.stderr.contains("looks like a secret"),
            "{pointer}: {}",
            out.stderr
        );
    }
    assert!(
        !out.all().contains("whs-LEAK-1234") && !out.all().contains("ghp_0123"),
        "{}",
        out.all()
    );

    // A false positive can be accepted, one pointer at a time.
    let out = contrail(
        ws.path(),
        &["lint", "--allow-secret", "/request/body/json/webhook_secret"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    let out = contrail(
        ws.path(),
        &[
            "lint",
            "--allow-secret",
            "/request/body/json/webhook_secret",
            "--allow-secret",
            "/response/body/json/note",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

/// A contract that does not load is one error, at its file: the features naming it are not
/// told, each, that no such contract exists.
#[test]
fn a_broken_contract_is_reported_once_not_once_per_feature() {
    let ws = workspace_copy();
    let file = ws.path().join("contracts/support-escalation.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("version: 1.0.0", "version: [oops")).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("contracts/support-escalation.yaml:4:"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("no contract named"), "{}", out.stderr);
    assert!(out.stderr.contains("1 problem(s)"), "{}", out.stderr);
    // A feature naming a contract that truly does not exist is still told.
    std::fs::write(&file, &text).unwrap();
    std::fs::write(
        ws.path().join("features/typo.feature"),
        "Feature: t\n  Scenario: t\n    Given the contract \"support-escalaton\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert!(
        out.stderr.contains("no contract named \"support-escalaton\""),
        "{}",
        out.stderr
    );
}

/// Specs that load but are likely wrong are warned about (exit 0), and `--deny-warnings` makes
/// them fail; a clean spec gives no warning.
#[test]
fn specs_that_load_but_look_wrong_are_warnings() {
    let contract = "contract: w\nversion: \"1\"\npartners:\n  api:\n    openapi: openapi/api.yaml\n";
    let feature = "Feature: f\n  Scenario: s\n    Given the contract \"w\"\n";
    let lint = |spec: &str, extra: &[&str]| {
        let ws = tiny_workspace(contract, feature);
        std::fs::write(ws.path().join("contracts/openapi/api.yaml"), spec).unwrap();
        let mut args = vec!["lint"];
        args.extend(extra);
        contrail(ws.path(), &args)
    };
    let clean = "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /things/{id}:\n    get:\n      operationId: getThing\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: [object, \"null\"]}\n";
    let out = lint(clean, &["--deny-warnings"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);

    let wrong = "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /things?kind=a:\n    get:\n      operationId: listThings\n      responses: {'200': {description: ok}}\n  things/{id}:\n    get:\n      operationId: getThing\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {type: object, nullable: true}\n";
    let out = lint(wrong, &[]);
    assert_eq!(out.code, 0, "warnings do not fail: {}", out.all());
    for expected in [
        "the path \"/things?kind=a\" holds a query",
        "the path \"things/{id}\" does not start with `/`",
        "the path parameter {id} is not declared",
        "`nullable` is OpenAPI 3.0",
    ] {
        assert!(out.stderr.contains(expected), "no {expected:?} in\n{}", out.stderr);
    }
    assert!(
        out.stderr.contains("warning: contracts/openapi/api.yaml"),
        "{}",
        out.stderr
    );
    let out = lint(wrong, &["--deny-warnings"]);
    assert_eq!(out.code, 2, "{}", out.all());
}

/// A remote `$ref` is never fetched: one that `[schemas] remote` maps to a local copy is read
/// from it (and checks values), one it does not map is an error with the way out.
#[test]
fn remote_refs_are_read_from_mapped_copies_only() {
    let contract = "contract: r\nversion: \"1\"\npartners:\n  api:\n    openapi: openapi/api.yaml\n";
    let feature = "Feature: f\n  Scenario: s\n    Given the contract \"r\"\n";
    let spec = |host: &str| {
        format!(
            "openapi: 3.1.0\ninfo: {{title: t, version: \"1\"}}\npaths:\n  /things:\n    get:\n      operationId: getThing\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: 'https://{host}/thing.json'}}\n"
        )
    };
    let ws = tiny_workspace(contract, feature);
    std::fs::create_dir_all(ws.path().join("vendor")).unwrap();
    std::fs::write(
        ws.path().join("vendor/thing.json"),
        r#"{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::write(
        ws.path().join("contrail.toml"),
        "[schemas.remote]\n\"https://schemas.example.com/\" = \"vendor\"\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("contracts/openapi/api.yaml"),
        spec("schemas.example.com"),
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());

    std::fs::write(
        ws.path().join("contracts/openapi/api.yaml"),
        spec("elsewhere.example.com"),
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("$ref \"https://elsewhere.example.com/thing.json\" is remote: contrail never fetches one; give it a local copy with [schemas] remote"),
        "{}",
        out.stderr
    );

    // `http://localhost/<a file in the workspace>` names a server, not the disk: the file
    // exists and may be read, yet a remote reference never reads it.
    let local = ws.path().join("vendor/thing.json").canonicalize().unwrap();
    let spec_text = spec("elsewhere.example.com").replace(
        "https://elsewhere.example.com/thing.json",
        &format!("http://localhost{}", local.display()),
    );
    std::fs::write(ws.path().join("contracts/openapi/api.yaml"), spec_text).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("is remote: contrail never fetches one"),
        "{}",
        out.stderr
    );
}

/// OAS 3.1's top-level `webhooks:` of a partner's document are events a feature may name
/// without restating them in the contract; an event neither declares is still an error.
#[test]
fn webhooks_of_an_openapi_31_document_can_be_named() {
    let contract = "contract: h\nversion: \"1\"\npartners:\n  api:\n    openapi: openapi/api.yaml\n";
    let spec = "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths: {}\nwebhooks:\n  thingCreated:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Thing'}\n      responses: {'200': {description: ok}}\ncomponents:\n  schemas:\n    Thing: {type: object, required: [id], properties: {id: {type: string}}}\n";
    let lint = |event: &str| {
        let feature = format!(
            "@sut\nFeature: f\n  Scenario: s\n    Given the contract \"h\"\n    When \"api\" sends the \"{event}\" webhook\n"
        );
        let ws = tiny_workspace(contract, &feature);
        std::fs::write(ws.path().join("contracts/openapi/api.yaml"), spec).unwrap();
        contrail(ws.path(), &["lint"])
    };
    let out = lint("thingCreated");
    assert_eq!(out.code, 0, "{}", out.all());
    let out = lint("thingCreatd");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("declares no webhook \"thingCreatd\" (webhooks: thingCreated)"),
        "{}",
        out.stderr
    );
}

/// A schema that does not compile is named at the keyword that broke, once, however many
/// operations reach it.
#[test]
fn a_broken_component_is_one_problem_at_its_keyword() {
    let contract = "contract: b\nversion: \"1\"\npartners:\n  api:\n    openapi: openapi/api.yaml\n";
    let spec = "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/X'}}}}\n  /y:\n    get:\n      operationId: getY\n      responses:\n        '200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/X'}}}}}\ncomponents:\n  schemas:\n    X: {type: object, properties: {a: {type: strng}}}\n";
    let ws = tiny_workspace(contract, "Feature: f\n  Scenario: s\n    Given the contract \"b\"\n");
    std::fs::write(ws.path().join("contracts/openapi/api.yaml"), spec).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("1 problem(s)"), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "contracts/openapi/api.yaml (at /components/schemas/X/properties/a/type): this schema (and 1 more schema(s) that reach it) does not compile"
        ),
        "{}",
        out.stderr
    );
}
