//! One test per exit code (0 passed, 1 failed, 2 bad input, 3 harness), and bad input that must
//! give a clear, located error, never a panic.

mod common;
use common::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONTRACT: &str = r#"contract: tiny
version: "1"
partners:
  api:
    operations:
      - id: getThing
        method: GET
        path: /things/{id}
        responses:
          "200":
            schema:
              type: object
              required: [id]
              properties:
                id: { type: string }
"#;

const FEATURE: &str = r#"Feature: Things
  Scenario: A thing matches the contract
    Given the contract "tiny"
    And the path parameter "id" is "1"
    When I call "getThing"
    Then the response status is 200
    And the response matches the contract
"#;

async fn run_tiny(server_uri: String, feature: &'static str) -> Output {
    tokio::task::spawn_blocking(move || {
        let ws = tiny_workspace(CONTRACT, feature);
        let out = contrail(
            ws.path(),
            &["run", "--color", "never", "--base-url", &format!("api={server_uri}")],
        );
        drop(ws);
        out
    })
    .await
    .unwrap()
}

async fn server_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/things/1"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_0_when_every_scenario_passes() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "1"}))).await;
    let out = run_tiny(server.uri(), FEATURE).await;
    assert_eq!(out.code, 0, "{}", out.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_1_when_a_scenario_fails_with_the_pointer_named() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 5}))).await;
    let out = run_tiny(server.uri(), FEATURE).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(r#"/id: 5 is not of type "string""#),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_json_answer_is_a_clear_failure() {
    let server = server_answering(ResponseTemplate::new(200).set_body_raw("<html>oops</html>", "text/html")).await;
    let out = run_tiny(server.uri(), FEATURE).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("content type \"text/html\" is not declared"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_json_body_under_a_json_content_type_is_named() {
    let server = server_answering(ResponseTemplate::new(200).set_body_raw("{not json", "application/json")).await;
    let out = run_tiny(server.uri(), FEATURE).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("the response body is not JSON"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_50_mb_answer_is_refused_with_a_bounded_read() {
    let big = vec![b' '; 50 * 1024 * 1024];
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(big, "application/json")).await;
    let out = run_tiny(server.uri(), FEATURE).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("larger than the 10485760-byte limit"),
        "{}",
        out.stdout
    );
}

#[test]
fn exit_2_for_a_malformed_contract_naming_file_and_line() {
    let ws = tiny_workspace(
        "contract: tiny\nversion: \"1\"\npartners:\n  api:\n    operations: [\n",
        FEATURE,
    );
    let out = contrail(ws.path(), &["run", "--base-url", "api=http://127.0.0.1:9"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("contracts/c.yaml:"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
}

#[test]
fn exit_2_for_usage_errors() {
    let ws = tiny_workspace(CONTRACT, FEATURE);
    assert_eq!(contrail(ws.path(), &["run", "--no-such-flag"]).code, 2);
    let out = contrail(ws.path(), &["run", "--tags", "@a and and"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let out = contrail(ws.path(), &["run", "--target", "live", "--record-missing"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("--record-missing goes with --target replay"),
        "{}",
        out.stderr
    );
    let out = contrail(ws.path(), &["run", "--base-url", "nobody=http://127.0.0.1:9"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no contract has a partner \"nobody\""),
        "{}",
        out.stderr
    );
}

#[test]
fn exit_2_for_malformed_gherkin_with_line() {
    let ws = tiny_workspace(
        CONTRACT,
        "Feature: x\n  Scenario: y\n    Given the contract \"tiny\"\n  Oops this is not gherkin\n",
    );
    let out = contrail(ws.path(), &["run", "--base-url", "api=http://127.0.0.1:9"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("features/f.feature:4:"), "{}", out.stderr);
}

#[test]
fn exit_2_for_a_malformed_contrail_toml_with_line() {
    let ws = tiny_workspace(CONTRACT, FEATURE);
    std::fs::write(ws.path().join("contrail.toml"), "[run]\njobs = \"many\"\n").unwrap();
    let out = contrail(ws.path(), &["run"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("contrail.toml:2:"), "{}", out.stderr);
}

#[test]
fn exit_3_when_the_sandbox_is_unreachable() {
    // Bind then drop: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ws = tiny_workspace(CONTRACT, FEATURE);
    let out = contrail(
        ws.path(),
        &[
            "run",
            "--color",
            "never",
            "--base-url",
            &format!("api=http://127.0.0.1:{port}"),
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains("could not connect to http://127.0.0.1:"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_contrail"))
        .current_dir(repo())
        .arg("steps")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start contrail");
    // Close the pipe before contrail writes (its output would fit in the pipe's buffer), as
    // `| head -1` does once it has its line.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn junit_stays_well_formed_whatever_a_failure_says() {
    // The expected body carries what XML cannot hold raw: a CDATA end and control characters.
    let ws = edited_tickets(|t| {
        t.replacen(
            "\"title\": \"Printer on fire\",\n        \"priority\": \"high\"",
            "\"title\": \"Printer ]]> \\u0001 \\u001b[31m on fire\",\n        \"priority\": \"high\"",
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
            "--junit",
            "j.xml",
            "--cucumber-json",
            "c.json",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.stdout.contains('\u{1b}'), "no raw escape reaches the terminal");
    let xml = std::fs::read_to_string(ws.path().join("j.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut failures = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))
                if e.local_name().as_ref() == b"failure" =>
            {
                failures += 1
            }
            Ok(quick_xml::events::Event::CData(c)) => {
                let text = String::from_utf8_lossy(&c);
                assert!(
                    !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                    "{text}"
                );
            }
            Ok(_) => {}
            Err(e) => panic!("j.xml is not well-formed at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    assert_eq!(failures, 1, "{xml}");
    assert!(xml.contains("Printer ]]\\u{3e}"), "{xml}");
    let json = std::fs::read_to_string(ws.path().join("c.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).expect("c.json parses");
}

#[test]
fn contrail_toml_mistakes_are_bad_input_with_their_lines() {
    let ws = workspace_copy();
    std::fs::write(
        ws.path().join("contrail.toml"),
        r#"[run]
request_timeout = "ten seconds"

[partners.ticketng]
live = "{services.sandbox.url}"

[partners.incidents]
live = "{services.nosuch.url}"

[services.sandbox]
command = []
ready = "/health"

[sut]
command = ["my-service", "--incidents", "{partners.incident.url}"]
ready = "/health"
"#,
    )
    .unwrap();
    for args in [&["lint"][..], &["run", "--target", "live"][..]] {
        let out = contrail(ws.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        let e = &out.stderr;
        for want in [
            "contrail.toml:2:1: [run] request_timeout \"ten seconds\" is not a duration",
            "contrail.toml:4:1: [partners.ticketng]: no contract has a partner \"ticketng\"; did you mean \"ticketing\"?",
            "contrail.toml:8:1: [partners.incidents] live: {services.nosuch.url} is not known here",
            "contrail.toml:10:1: [services.sandbox]: `command` is empty",
            "contrail.toml:15:1: [sut]: {partners.incident.url} is not known here",
        ] {
            assert!(e.contains(want), "{args:?}: missing {want:?} in\n{e}");
        }
        assert!(!out.stdout.contains("Scenario"), "nothing ran: {}", out.stdout);
    }
}

#[test]
fn a_service_program_that_does_not_exist_is_bad_input_and_one_that_never_gets_ready_a_harness_failure() {
    let ws = workspace_copy();
    let toml = |command: &str| {
        format!(
            "[partners.ticketing]\nlive = \"{{services.sandbox.url}}\"\n\n[partners.incidents]\nlive = \"{{services.sandbox.url}}\"\n\n[services.sandbox]\ncommand = {command}\nready = \"/health\"\nready_timeout = \"2s\"\n"
        )
    };
    std::fs::write(
        ws.path().join("contrail.toml"),
        toml(r#"["/nonexistent/contrail-sandbox"]"#),
    )
    .unwrap();
    let out = contrail(ws.path(), &["run", "--target", "live", "features/tickets.feature"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("cannot start \"/nonexistent/contrail-sandbox\""),
        "{}",
        out.stderr
    );
    std::fs::write(ws.path().join("contrail.toml"), toml(r#"["sleep", "30"]"#)).unwrap();
    let out = contrail(ws.path(), &["run", "--target", "live", "features/tickets.feature"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("did not get ready"), "{}", out.stderr);
}

/// A bug in contrail (a panic, injected here in a debug build) reads as one, names what
/// contrail was doing, and ends the run with exit 3 wherever it happens: at the top, inside a
/// step, inside a mock's worker (where cucumber silences the panic hook). The bundled suite
/// replayed with no injection is the other side: exit 0 (tests/bundled_suite.rs).
#[test]
fn an_internal_panic_anywhere_is_a_harness_failure_named_as_a_bug() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let args = ["run", "--color", "never", "features/tickets.feature"];
    let out = contrail_env(ws.path(), &args, &[("RUST_BACKTRACE", "0")]);
    assert_eq!(out.code, 0, "without an injected panic: {}", out.all());

    for (point, doing) in [
        ("cli", "internal error in main"),
        (
            "step",
            "internal error in the step \"the contract \\\"support-escalation\\\"\"",
        ),
        (
            "mock",
            "internal error in the \"ticketing\" mock answering POST /oauth/token",
        ),
    ] {
        let out = contrail_env(
            ws.path(),
            &args,
            &[("CONTRAIL_INJECT_PANIC", point), ("RUST_BACKTRACE", "0")],
        );
        assert_eq!(out.code, 3, "{point}: {}", out.all());
        assert!(out.stderr.contains(doing), "{point}: no {doing:?} in\n{}", out.stderr);
        assert!(
            out.stderr.contains("this is a bug in contrail, not in your input"),
            "{point}: {}",
            out.stderr
        );
        assert!(
            !out.all().contains("panicked at"),
            "{point}: a raw panic message:\n{}",
            out.all()
        );
    }
}

#[test]
fn report_and_mock_settings_mistakes_are_bad_input() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::write(ws.path().join("a-file"), "").unwrap();
    let out = contrail(
        ws.path(),
        &["run", "features/tickets.feature", "--junit", "a-file/junit.xml"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("a-file"), "{}", out.stderr);

    std::fs::write(
        ws.path().join("contrail.toml"),
        "[mock]\ntls_cert = \"no/such.pem\"\ntls_key = \"no/such.key\"\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["run", "features/tickets.feature"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no/such.pem"), "{}", out.stderr);
}
