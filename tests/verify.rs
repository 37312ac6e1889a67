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

fn consumer() -> (tempfile::TempDir, PathBuf) {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let bundle = ws.path().join("ticketing.contrail");
    let out = contrail(
        ws.path(),
        &["bundle", "--partner", "ticketing", "--consumer", "acme-support"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    (ws, bundle)
}

/// `contrail verify` run where a partner would: a folder with nothing but the bundle.
fn verify(bundle: &Path, url: &str, env: &[(&str, &str)]) -> (Output, Value, tempfile::TempDir) {
    let partner_dir = tempfile::tempdir().unwrap();
    let out = contrail_env(
        partner_dir.path(),
        &[
            "verify",
            bundle.to_str().unwrap(),
            "--base-url",
            url,
            "--color",
            "never",
            "--report",
            "report.html",
        ],
        env,
    );
    let result = std::fs::read_to_string(partner_dir.path().join("verification-ticketing.json"))
        .map(|t| serde_json::from_str(&t).expect("the result is JSON"))
        .unwrap_or(Value::Null);
    (out, result, partner_dir)
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
    let (out, result, dir) = verify(&bundle, &partner.url, &CREDENTIALS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(result["verdict"], "passed", "{result:#}");
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
