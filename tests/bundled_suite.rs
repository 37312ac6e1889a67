//! The bundled suite against the demo partner: it passes when the partner keeps the contract,
//! and the very same scenarios fail, naming each drifted field, when the partner drifts.

mod common;
use common::*;

fn run_against(partner: &Partner, extra: &[&str]) -> Output {
    run_live(&repo(), partner, extra)
}

#[test]
fn bundled_suite_passes_against_the_demo_partner() {
    let partner = start_partner(&[]);
    let out = run_against(&partner, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("19 scenarios (19 passed)"), "{}", out.stdout);
}

#[test]
fn drifted_partner_fails_the_schema_scenarios_naming_each_field() {
    let partner = start_partner(&["--drift"]);
    let out = run_against(&partner, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let text = out.stdout;
    // A required field removed, reported at its own pointer.
    assert!(
        text.contains("/customer_id: required by the contract, but missing"),
        "{text}"
    );
    // An enum value the contract does not know.
    assert!(text.contains(r#"/status: "triaged" is not one of"#), "{text}");
    // A type change.
    assert!(text.contains(r#"/severity: "2" is not of type "integer""#), "{text}");
    assert!(
        text.contains(r#"for "high" the contract says 1, the response has "1" (a string)"#),
        "{text}"
    );
    // Retry-After as an HTTP-date where the contract says seconds.
    assert!(
        text.contains("the response header Retry-After: expected a string matching"),
        "{text}"
    );
    // The scenarios that do not touch drifted fields still pass.
    assert!(text.contains("(8 passed, 11 failed)"), "{text}");
}

#[test]
fn reports_are_written_side_by_side_with_the_terminal() {
    let partner = start_partner(&[]);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out/junit.xml");
    let json = dir.path().join("out/cucumber.json");
    let out = run_against(
        &partner,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--cucumber-json",
            json.to_str().unwrap(),
            "--tags",
            "@auth",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuites") && xml.contains("A call without a token is refused with 401"),
        "{xml}"
    );
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["elements"].as_array().unwrap())
        // Cucumber JSON lists each Background run as an element of its own.
        .filter(|e| e["type"] == "scenario")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "only the @auth scenarios run: {names:?}");
}

#[test]
fn failing_reports_carry_the_failure_text() {
    let partner = start_partner(&["--drift"]);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = run_against(
        &partner,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--name",
            "exactly what the contract",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("/severity"), "{xml}");
}

#[test]
fn contrail_toml_starts_and_stops_the_sandbox_as_a_service() {
    let ws = workspace_copy();
    let bin = env!("CARGO_BIN_EXE_contrail-demo-partner");
    std::fs::write(
        ws.path().join("contrail.toml"),
        format!(
            // The shell records the service's PID, then becomes the sandbox (exec keeps the PID).
            "[partners.ticketing]\nlive = \"{{services.sandbox.url}}\"\n[partners.incidents]\nlive = \"{{services.sandbox.url}}\"\n\n[services.sandbox]\ncommand = [\"sh\", \"-c\", \"echo $$ > service.pid; exec {bin} --port {{port}}\"]\nready = \"/health\"\nready_timeout = \"30s\"\n"
        ),
    )
    .unwrap();
    let out = contrail(ws.path(), &["run", "--color", "never", "--tags", "@rate-limit"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 scenario (1 passed)"), "{}", out.stdout);
    let pid = std::fs::read_to_string(ws.path().join("service.pid")).unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the sandbox (pid {}) is still running after the run",
        pid.trim()
    );
}

#[test]
fn a_service_that_dies_is_a_harness_error_with_its_output() {
    let ws = workspace_copy();
    let bin = env!("CARGO_BIN_EXE_contrail-demo-partner");
    std::fs::write(
        ws.path().join("contrail.toml"),
        format!("[partners.ticketing]\nlive = \"{{services.sandbox.url}}\"\n\n[services.sandbox]\ncommand = [{bin:?}, \"--no-such-flag\"]\nready = \"/health\"\nready_timeout = \"10s\"\n"),
    )
    .unwrap();
    let out = contrail(ws.path(), &["run"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("service \"sandbox\" did not get ready") && out.stderr.contains("unknown argument"),
        "{}",
        out.stderr
    );
}
