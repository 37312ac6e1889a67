//! `contrail verify`: the partner runs the consumer's bundle against their own API with their
//! own credentials. Against the healthy demo partner it passes; against the demo partner
//! started with `--drift` it fails with the very findings `contrail drift` reports in the
//! consumer's workspace; without credentials it cannot pass (they come from the partner's
//! environment, never from the bundle). The result it writes is imported by the consumer.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Output, contrail, contrail_env, copy_dir, repo, start_partner, workspace_copy};
use serde_json::Value;

/// The demo partner's credentials, as the partner would set them.
const CREDENTIALS: [(&str, &str); 2] = [
    ("TICKETING_CLIENT_ID", "contrail-qa"),
    ("TICKETING_CLIENT_SECRET", "qa-secret"),
];

/// The consumer's workspace, ticketing's rate limit raised to 50 per second so the paced
/// comparison and generated conformance are quick (both keep to whatever the contract says).
fn consumer() -> (tempfile::TempDir, PathBuf) {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let contract = ws.path().join("contracts/support-escalation.yaml");
    let text = std::fs::read_to_string(&contract).unwrap();
    let faster = text.replacen(
        "rate_limit:\n      requests: 5\n",
        "rate_limit:\n      requests: 50\n",
        1,
    );
    assert_ne!(faster, text);
    std::fs::write(&contract, faster).unwrap();
    let bundle = ws.path().join("ticketing.contrail");
    let out = contrail(
        ws.path(),
        &["bundle", "--partner", "ticketing", "--consumer", "acme-support"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    (ws, bundle)
}

/// `contrail verify` run where a partner would: a folder with nothing but the bundle.
/// Generated conformance is off unless `examples` says how many per operation.
fn verify_with(bundle: &Path, url: &str, env: &[(&str, &str)], examples: u32) -> (Output, Value, tempfile::TempDir) {
    verify_args(bundle, url, env, examples, &[])
}

/// The same with more arguments.
fn verify_args(
    bundle: &Path,
    url: &str,
    env: &[(&str, &str)],
    examples: u32,
    extra: &[&str],
) -> (Output, Value, tempfile::TempDir) {
    let partner_dir = tempfile::tempdir().unwrap();
    let examples = examples.to_string();
    let mut args = vec![
        "verify",
        bundle.to_str().unwrap(),
        "--base-url",
        url,
        "--color",
        "never",
        "--report",
        "report.html",
        "--junit",
        "verify.xml",
        "--seed",
        "5",
        "--conform-examples",
        &examples,
    ];
    args.extend(extra);
    let out = contrail_env(partner_dir.path(), &args, env);
    let result = std::fs::read_to_string(partner_dir.path().join("verification-ticketing.json"))
        .map(|t| serde_json::from_str(&t).expect("the result is JSON"))
        .unwrap_or(Value::Null);
    (out, result, partner_dir)
}

fn verify(bundle: &Path, url: &str, env: &[(&str, &str)]) -> (Output, Value, tempfile::TempDir) {
    verify_with(bundle, url, env, 0)
}

fn findings(report: &Value, partner: Option<&str>) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| partner.is_none_or(|p| f["partner"] == p))
        .map(|f| {
            (
                f["class"].as_str().unwrap_or_default().to_string(),
                f["operation"].as_str().unwrap_or_default().to_string(),
                f["place"].as_str().unwrap_or_default().to_string(),
                f["fingerprint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_healthy_partner_verifies_green_and_the_consumer_imports_the_result() {
    let (ws, bundle) = consumer();
    let partner = start_partner(&[]);
    let (out, result, dir) = verify_with(&bundle, &partner.url, &CREDENTIALS, 2);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(result["verdict"], "passed", "{result:#}");
    assert_eq!(result["passed"], true);
    // Generated conformance of every operation the bundle uses found nothing.
    assert_eq!(
        result["conformance"]["operations"],
        serde_json::json!(["createTicket", "escalateTicket", "getTicket", "listTickets"])
    );
    assert_eq!(result["conformance"]["findings"], serde_json::json!([]), "{result:#}");
    assert_eq!(result["conformance"]["rate_limit"], "50 per 1s");
    assert!(result["conformance"]["busiest_second"].as_u64().unwrap_or(999) <= 50);
    assert_eq!(result["counts"]["scenarios"], 11);
    assert_eq!(result["counts"]["passed"], 11);
    assert_eq!(result["partner"], "ticketing");
    assert_eq!(result["consumer"]["name"], "acme-support");
    assert_eq!(result["api_version"], "1.4.0");
    // Every recorded interaction was sent again, also those of scenarios not in the bundle.
    assert_eq!(result["not_replayed"], serde_json::json!([]), "{result:#}");
    assert!(
        out.stderr.contains("sent again 10 recorded interaction(s)"),
        "{}",
        out.stderr
    );
    let host = partner.url.trim_start_matches("http://").trim_end_matches('/');
    assert_eq!(result["target"], host);
    let sha = {
        use sha2::Digest;
        let bytes = std::fs::read(&bundle).unwrap();
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(result["bundle_sha256"], sha);
    // The partner's secret is theirs: in no file verify wrote.
    for f in ["verification-ticketing.json", "report.html"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.contains("qa-secret"), "{f} holds the partner's client secret");
    }
    assert!(
        std::fs::read_to_string(dir.path().join("report.html"))
            .unwrap()
            .contains("passed")
    );
    let junit = std::fs::read_to_string(dir.path().join("verify.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 11, "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");

    // The consumer imports it, once.
    let result_file = dir.path().join("verification-ticketing.json");
    let history = ws.path().join("h.db");
    let import = |args: &[&str]| {
        let mut all = vec!["verify", "--import", result_file.to_str().unwrap()];
        all.extend(args);
        contrail(ws.path(), &all)
    };
    let out = import(&["--history", history.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("partner \"ticketing\" verified bundle"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("passed (11 scenario(s)"), "{}", out.stdout);
    assert!(out.stdout.contains("remembered in"), "{}", out.stdout);
    let out = import(&["--history", history.to_str().unwrap()]);
    assert!(out.stdout.contains("already holds this result"), "{}", out.stdout);
    let listed = contrail(ws.path(), &["history", "--history", history.to_str().unwrap()]);
    assert!(listed.stdout.contains("partner verifications"), "{}", listed.all());
    assert!(listed.stdout.contains(&sha[..12]), "{}", listed.stdout);
    // Without a history it is only shown.
    let out = import(&[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("no history"), "{}", out.stdout);
    // Anything else is refused.
    std::fs::write(&result_file, r#"{"verdict": "passed"}"#).unwrap();
    let out = import(&[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not a verification result"), "{}", out.stderr);
}

#[test]
fn without_the_partners_own_credentials_it_cannot_pass() {
    let (_ws, bundle) = consumer();
    let partner = start_partner(&[]);
    let (out, result, _dir) = verify(&bundle, &partner.url, &[]);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("TICKETING_CLIENT_ID, TICKETING_CLIENT_SECRET") && out.stderr.contains("not set"),
        "{}",
        out.stderr
    );
    assert_ne!(result["verdict"], "passed");
}

#[test]
fn a_drifted_partner_fails_with_the_findings_drift_reports() {
    let (ws, bundle) = consumer();
    let partner = start_partner(&["--drift"]);
    let (out, result, dir) = verify(&bundle, &partner.url, &CREDENTIALS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(result["verdict"], "breaking", "{result:#}");
    // The advice is for whoever owns the API, not for the consumer's workspace.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("your API breaks"), "{html}");
    assert!(!html.contains("drift --accept"), "{html}");
    let verified = findings(&result, None);
    assert!(
        verified
            .iter()
            .any(|(class, op, place, _)| class == "breaking" && op == "createTicket" && place == "/customer_id"),
        "{verified:?}"
    );

    // The consumer's own drift check of the same partner finds the same.
    let report = ws.path().join("drift.json");
    let mut args = vec![
        "drift",
        "--partner",
        "ticketing",
        "--color",
        "never",
        "--report",
        report.to_str().unwrap(),
    ];
    let urls = common::both_partners(&partner.url);
    args.extend(urls.iter().map(String::as_str));
    let out = contrail(ws.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    let drift: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(verified, findings(&drift, Some("ticketing")));
}

/// A state-setup endpoint on 127.0.0.1 answering `status` to every request; each request's
/// text (request line, headers, body) comes back on the channel. Stops with the test process.
fn state_setup_endpoint(status: u16) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/_state", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as much body as Content-Length says.
            while let Ok(n) = conn.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&buf).to_string());
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    (url, rx)
}

const WITH_STATE: &str = r#"
  Scenario: A ticket the partner set up can be listed
    Given the partner is in state "a ticket exists" with:
      | priority | high |
    And the query parameter "status" is "open"
    When I call "listTickets"
    Then the response status is 200

  Scenario: A state alone
    Given the partner is in state "nothing to see"
"#;

#[test]
fn a_scenario_that_needs_partner_state_gets_it_set_up_or_is_reported_as_needing_it() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let feature = ws.path().join("features/tickets.feature");
    let text = std::fs::read_to_string(&feature).unwrap();
    std::fs::write(&feature, format!("{text}{WITH_STATE}")).unwrap();
    // In replay the state is in the recordings already: the step does nothing.
    let out = contrail(ws.path(), &["run", "--name", "A state alone"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let bundle = ws.path().join("ticketing.contrail");
    let out = contrail(ws.path(), &["bundle", "--partner", "ticketing"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let partner = start_partner(&[]);

    // No state-setup URL: reported as needing state setup, not failed.
    let (out, result, _dir) = verify(&bundle, &partner.url, &CREDENTIALS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(result["verdict"], "passed", "{result:#}");
    let item = |r: &Value, name: &str| {
        r["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scenario"].as_str().unwrap_or_default().ends_with(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        item(&result, "A ticket the partner set up can be listed")["status"],
        "skipped"
    );
    assert!(out.stdout.contains("needs state setup"), "{}", out.stdout);

    // With one: the partner is asked for the state, with its parameters, then the scenario runs.
    let (url, asked) = state_setup_endpoint(200);
    let env = [CREDENTIALS[0], CREDENTIALS[1]];
    let (out, result, _dir) = verify_args(&bundle, &partner.url, &env, 0, &["--state-setup-url", &url]);
    assert_eq!(out.code, 0, "{}", out.all());
    let requests: Vec<String> = asked.try_iter().collect();
    // "A state alone" names no partner of a two-partner contract, so it is not in the bundle.
    assert_eq!(requests.len(), 1, "{requests:?}");
    let setup = &requests[0];
    assert!(setup.starts_with("POST /_state "), "{setup}");
    let body: Value = serde_json::from_str(setup.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"state": "a ticket exists", "params": {"priority": "high"}, "action": "setup"})
    );
    assert_eq!(
        item(&result, "A ticket the partner set up can be listed")["status"],
        "passed"
    );

    // A state-setup endpoint that fails: the check could not run (exit 3), and says why.
    let (url, _asked) = state_setup_endpoint(500);
    let (out, _, _dir) = verify_args(&bundle, &partner.url, &env, 0, &["--state-setup-url", &url]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains("the state setup at") && out.stdout.contains("answered 500"),
        "{}",
        out.stdout
    );
}

#[test]
fn generated_conformance_in_verify_finds_what_the_scenarios_do_not() {
    // The scenarios list only open tickets; generated requests also ask for closed ones, which
    // this partner answers with a status the contract does not declare.
    let (_ws, bundle) = consumer();
    let partner = start_partner(&["--fault", "undeclared-status"]);
    let (plain, result, _dir) = verify(&bundle, &partner.url, &CREDENTIALS);
    assert_eq!(
        plain.code,
        0,
        "without generated conformance the scenarios pass: {}",
        plain.all()
    );
    assert!(result.get("conformance").is_none());
    let (out, result, _dir) = verify_with(&bundle, &partner.url, &CREDENTIALS, 10);
    assert_eq!(out.code, 1, "{}", out.all());
    let found = result["conformance"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        found
            .iter()
            .any(|f| f["operation"] == "listTickets" && f["kind"] == "undeclared status"),
        "{result:#}"
    );
    assert!(
        found
            .iter()
            .all(|f| f["curl"].as_str().is_some_and(|c| c.contains("$TOKEN")))
    );
    assert!(out.stdout.contains("UNDECLARED STATUS listTickets"), "{}", out.stdout);
    assert_eq!(
        result["verdict"], "passed",
        "the scenarios' own verdict stands beside it"
    );
    assert_eq!(result["passed"], false, "but the verification did not pass");
}
