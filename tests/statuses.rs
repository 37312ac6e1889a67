//! What a run does with steps it cannot run, and what `--dry-run` shows: scenarios are chosen
//! (`--tags`, `--name`) before anything is checked, an undefined or ambiguous step fails its
//! own scenario (named as such, in the terminal and JUnit) while the others run, and a dry run
//! lists what would run without starting or sending anything.

mod common;
use common::*;

const CONTRACT: &str = r#"contract: tiny
version: "1"
partners:
  api:
    operations:
      - id: getThing
        method: GET
        path: /things/{id}
"#;

const FEATURE: &str = r#"Feature: Statuses
  Scenario: Fine
    Given the variable "a" is "b"

  @wip
  Scenario: Not written yet
    Given the variable "a" is "b"
    When the frobnicator spins
"#;

/// An undefined step in a scenario that `--tags` leaves out blocks nothing; without the tag
/// filter the run goes on: the other scenario passes, this one fails as undefined (exit 1).
#[test]
fn an_undefined_step_fails_only_its_scenario_and_excluded_ones_block_nothing() {
    let ws = tiny_workspace(CONTRACT, FEATURE);
    let out = contrail(ws.path(), &["run", "--color", "never", "--tags", "not @wip"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 scenario (1 passed)"), "{}", out.stdout);

    let junit = ws.path().join("out/junit.xml");
    let out = contrail(
        ws.path(),
        &["run", "--color", "never", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("2 scenarios (1 passed, 1 undefined)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("undefined step: the frobnicator spins"),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"undefined\""), "{xml}");

    // lint still refuses it, with the closest phrase.
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("features/f.feature:8:5: undefined step: the frobnicator spins"),
        "{}",
        out.stderr
    );
}

/// `--dry-run` resolves every step and lists the scenarios, undefined ones visible, and writes
/// the report files; it starts no service and sends no request: the partner's port sees no
/// connection and the service's command never runs.
#[test]
fn a_dry_run_lists_what_would_run_and_starts_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let feature = FEATURE.replace(
        "  Scenario: Fine\n    Given the variable \"a\" is \"b\"\n",
        "  Scenario: Fine\n    Given the contract \"tiny\"\n    And the path parameter \"id\" is \"1\"\n    When I call \"getThing\"\n    Then the response status is 200\n",
    );
    let ws = tiny_workspace(CONTRACT, &feature);
    std::fs::write(
        ws.path().join("contrail.toml"),
        "[partners.api]\nlive = \"{services.sandbox.url}\"\n\n[services.sandbox]\ncommand = [\"sh\", \"-c\", \"touch started; sleep 5\"]\nready = \"/health\"\nready_timeout = \"1s\"\n",
    )
    .unwrap();
    let junit = ws.path().join("junit.xml");
    let json = ws.path().join("cucumber.json");
    let out = contrail(
        ws.path(),
        &[
            "run",
            "--dry-run",
            "--target",
            "live",
            "--base-url",
            &format!("api=http://127.0.0.1:{port}"),
            "--junit",
            junit.to_str().unwrap(),
            "--cucumber-json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "an undefined step: {}", out.all());
    assert!(
        out.stdout
            .contains("Scenario: Fine\n   -  Given the contract \"tiny\"  (skipped)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("?  When the frobnicator spins\n      Step undefined: features/f.feature:11:5"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("2 scenarios (1 undefined, 1 skipped)"),
        "{}",
        out.stdout
    );
    assert!(listener.accept().is_err(), "the dry run connected to the partner");
    assert!(!ws.path().join("started").exists(), "the dry run started a service");
    // The probe works: the same workspace run for real starts the service (which never gets
    // ready here, so the run ends as a harness problem).
    let real = contrail(ws.path(), &["run", "--target", "live"]);
    assert_eq!(real.code, 3, "{}", real.all());
    assert!(
        ws.path().join("started").exists(),
        "a real run starts the service: {}",
        real.all()
    );
    std::fs::remove_file(ws.path().join("started")).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<skipped message=\"skipped\"/>") && xml.contains("type=\"undefined\""),
        "{xml}"
    );
    assert!(xml.contains("classname=\"Feature: Statuses\""), "{xml}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let statuses: Vec<&str> = report[0]["elements"][1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["result"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["skipped", "undefined"]);

    // Every step defined: the same dry run lists both and exits 0.
    let ws2 = tiny_workspace(CONTRACT, &feature.replace("    When the frobnicator spins\n", ""));
    let out = contrail(ws2.path(), &["run", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("2 scenarios (2 skipped)"), "{}", out.stdout);
}

/// Two declarative phrases that both match a step make it ambiguous: `lint` names both, a run
/// fails that scenario as ambiguous (terminal, JUnit; Cucumber JSON has no such status and
/// says failed with the reason) and runs the others.
#[test]
fn an_ambiguous_step_fails_only_its_scenario() {
    let feature = "Feature: Ambiguity\n  Scenario: Clear\n    Given the variable \"a\" is \"b\"\n\n  Scenario: Two meanings\n    Given the ticket \"T-1\" is closed\n";
    let ws = tiny_workspace(CONTRACT, feature);
    std::fs::create_dir_all(ws.path().join("steps")).unwrap();
    // The specific phrase first: the general one's sample text does not collide with it, yet
    // both match `the ticket "T-1" is closed`.
    std::fs::write(
        ws.path().join("steps/tickets.yaml"),
        "steps:\n  - phrase: the ticket {id} is closed\n    do:\n      - the variable \"state\" is \"closed\"\n  - phrase: the ticket {id} is {state:word}\n    do:\n      - the variable \"state\" is \"${state}\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("the step matches several definitions"),
        "{}",
        out.stderr
    );

    let out = contrail(
        ws.path(),
        &[
            "run",
            "--color",
            "never",
            "--junit",
            "j.xml",
            "--cucumber-json",
            "c.json",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("2 scenarios (1 passed, 1 ambiguous)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Step ambiguous: features/f.feature:6:5"),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(ws.path().join("j.xml")).unwrap();
    assert!(xml.contains("<failure type=\"ambiguous\""), "{xml}");
    let json = std::fs::read_to_string(ws.path().join("c.json")).unwrap();
    assert!(
        json.contains("\"status\": \"failed\"") && json.contains("ambiguous step"),
        "{json}"
    );
}
