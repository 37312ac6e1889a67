//! `contrail drift` against the demo partner: healthy (no findings, exit 0) and with `--drift`
//! (the removed field, the type change and a header in another form breaking, the new field
//! undeclared, the timestamp volatile; exit 1), plus `--accept`, `--fail-stale` and bad arguments.

mod common;

use std::path::Path;

use common::{Output, Partner, both_partners, contrail, copy_dir, repo, start_partner};
use serde_json::Value;

/// The bundled workspace with its recordings.
fn workspace_copy() -> tempfile::TempDir {
    let dir = common::workspace_copy();
    copy_dir(&repo().join("recordings"), &dir.path().join("recordings"));
    dir
}

fn drift(dir: &Path, partner: &Partner, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["drift".into(), "--color".into(), "never".into()];
    args.extend(both_partners(&partner.url));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    contrail(dir, &args)
}

/// The drift part of the run report.
fn report(path: &Path) -> Value {
    run_report(path)["drift"].clone()
}

fn run_report(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the JSON report was written");
    serde_json::from_str(&text).expect("the report is JSON")
}

/// (class, place, change) of every finding in the report, over all interactions.
fn findings(r: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = r["interactions"]
        .as_array()
        .expect("interactions")
        .iter()
        .flat_map(|i| i["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            (
                f["class"].as_str().unwrap_or_default().to_string(),
                f["place"].as_str().unwrap_or_default().to_string(),
                f["change"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn a_healthy_partner_shows_no_drift() {
    let ws = workspace_copy();
    let partner = start_partner(&[]);
    let json = ws.path().join("drift.json");
    let out = drift(ws.path(), &partner, &["--report", json.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(run_report(&json)["verdict"], "passed", "{}", out.all());
    let r = report(&json);
    let s = &r["summary"];
    assert_eq!(s["verdict"], "none", "{}", out.all());
    assert_eq!(s["breaking"], 0);
    assert_eq!(s["compatible"], 0, "{:#?}", findings(&r));
    assert_eq!(s["scenarios_failed"], false);
    // Every recording was replayed, the paced rate-limit scenario included: a 429 the pacing
    // caused itself would show up as a changed status.
    assert_eq!(s["not_exercised"], 0, "{}", out.all());
    assert!(s["replayed"].as_u64().unwrap_or(0) >= 40, "{s}");
    // New ids, links and timestamps every time, and none of it is drift.
    let volatile: Vec<String> = findings(&r).into_iter().map(|(_, place, _)| place).collect();
    assert!(volatile.contains(&"/created_at".to_string()), "{volatile:?}");
    assert!(out.stdout.contains("Verdict: no drift"), "{}", out.stdout);
}

#[test]
fn a_drifted_partner_is_breaking_drift_named_by_field() {
    let ws = workspace_copy();
    let partner = start_partner(&["--drift"]);
    let json = ws.path().join("drift.json");
    let md = ws.path().join("drift.md");
    let out = drift(
        ws.path(),
        &partner,
        &[
            "--report",
            json.to_str().expect("utf-8"),
            "--report",
            md.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let r = report(&json);
    let f = findings(&r);
    let has = |class: &str, place: &str, change: &str| {
        f.contains(&(class.to_string(), place.to_string(), change.to_string()))
    };
    // The removed required field and the type change are breaking...
    assert!(has("breaking", "/customer_id", "schema"), "{f:#?}");
    assert!(has("breaking", "/severity", "schema"), "{f:#?}");
    assert!(has("breaking", "/status", "schema"), "{f:#?}");
    // ...and so is a declared header in another form: Retry-After as an HTTP-date where the
    // contract says seconds...
    assert!(has("breaking", "header Retry-After", "schema"), "{f:#?}");
    // ...a new field the schema never mentions is named as undeclared, not as drift...
    assert!(has("undeclared", "/sla_due_at", "added"), "{f:#?}");
    // Once per operation and place, however many interactions showed it: createTicket,
    // escalateTicket, getTicket, and listTickets' items; and the `details` incidents' 422s
    // have always sent, which their Error schema does not declare.
    assert_eq!(r["summary"]["undeclared"], 5, "{}", out.stdout);
    assert!(out.stdout.contains("createIncident /details"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("Keys the contract allows but does not declare (not drift;")
            && out.stdout.contains("listTickets /items/*/sla_due_at"),
        "{}",
        out.stdout
    );
    // ...and the changing timestamp is never drift.
    assert!(
        f.iter()
            .filter(|(_, place, _)| place.ends_with("created_at"))
            .all(|(class, _, _)| class == "volatile-ignored"),
        "{f:#?}"
    );
    assert_eq!(r["summary"]["verdict"], "breaking");
    assert_eq!(run_report(&json)["verdict"], "breaking");
    // One change at the partner (a component's type), one cause, with every place it showed.
    let causes = r["causes"].as_array().cloned().unwrap_or_default();
    let severity = causes
        .iter()
        .find(|c| c["rule"] == "incidents.yaml#/components/schemas/Severity/type")
        .unwrap_or_else(|| panic!("no cause for the Severity component: {causes:#?}"));
    let seen: Vec<&str> = severity["seen"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        seen,
        [
            "incidents createIncident /severity",
            "incidents getIncident /severity",
            "incidents listIncidents /items/*/severity"
        ]
    );
    assert!(
        out.stdout.contains("CAUSE  incidents.yaml#/components/schemas/Severity/type\n  \"2\" is not of type \"integer\"\n  seen in 3 place(s)"),
        "{}",
        out.stdout
    );

    // The terminal and Markdown say the same, readably, with a diff.
    assert!(
        out.stdout.contains("BREAKING  ticketing createTicket"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("/customer_id  breaks the contract's schema for 201: required by the contract, but missing"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("-   \"customer_id\": \"C-1\","), "{}", out.stdout);
    assert!(out.stdout.contains("Verdict: BREAKING drift"), "{}", out.stdout);
    let md = std::fs::read_to_string(&md).expect("markdown report");
    // Findings by cause: the class and the schema rule, then each place it broke.
    assert!(
        md.contains("### breaking — `incidents.yaml#/components/schemas/Severity/type`"),
        "{md}"
    );
    assert!(md.contains("| `incidents` | `getIncident` | `/severity` |"), "{md}");
    assert!(md.contains("```diff"), "{md}");
    // No secret reaches a report.
    for text in [&md, &std::fs::read_to_string(&json).expect("json")] {
        assert!(!text.contains("qa-secret"), "a client secret leaked into a report");
        // Failed steps show their request, its Authorization masked.
        assert!(
            text.split("Bearer ").skip(1).all(|rest| rest.starts_with("«redacted»")),
            "a token leaked into a report"
        );
    }
}

#[test]
fn accept_rerecords_what_drifted_and_keeps_the_recorded_ids() {
    let ws = workspace_copy();
    let drifted = start_partner(&["--drift"]);
    let out = drift(ws.path(), &drifted, &["--accept", "--partner", "ticketing"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("accepted:"), "{}", out.stdout);

    let file = ws.path().join("recordings/ticketing/getTicket-64aeb6724600.json");
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("recording")).expect("json");
    let body = &rec["response"]["body"]["json"];
    assert!(body.get("customer_id").is_none(), "the live answer was stored: {body}");
    // With the live answer's time (the bundled recording had none).
    assert!(rec["meta"]["took_ms"].as_u64().is_some(), "{}", rec["meta"]);
    assert_eq!(body["status"], "triaged");
    // The live sandbox called the ticket something else; the recording keeps its own id, the
    // one its request path and the ticket's creation use.
    assert_eq!(rec["request"]["path"], "/tickets/T-8");
    assert_eq!(body["id"], "T-8", "{body}");
    // The other partner was not touched.
    let untouched = std::fs::read_to_string(repo_file("recordings/incidents/getIncident-4e66e501a0b8.json"));
    assert_eq!(
        untouched.expect("bundled"),
        std::fs::read_to_string(ws.path().join("recordings/incidents/getIncident-4e66e501a0b8.json")).expect("copy")
    );

    // Against the same drifted sandbox again, nothing differs from the recordings any more;
    // what still breaks the contract is still breaking.
    let json = ws.path().join("again.json");
    let again = drift(
        ws.path(),
        &drifted,
        &["--partner", "ticketing", "--report", json.to_str().expect("utf-8")],
    );
    let f = findings(&report(&json));
    assert!(
        !f.iter().any(|(class, _, _)| class == "compatible"),
        "{f:#?}\n{}",
        again.all()
    );
    assert!(
        f.iter()
            .any(|(class, place, _)| class == "breaking" && place == "/customer_id"),
        "{f:#?}"
    );
}

fn repo_file(rel: &str) -> std::path::PathBuf {
    repo().join(rel)
}

#[test]
fn fail_stale_names_recordings_older_than_the_limit() {
    let ws = workspace_copy();
    let partner = start_partner(&[]);
    let file = ws.path().join("recordings/incidents/getIncident-4e66e501a0b8.json");
    let text = std::fs::read_to_string(&file).expect("recording");
    let old = regex_replace_recorded_at(&text, "2020-01-01T00:00:00Z");
    std::fs::write(&file, old).expect("write");

    let out = drift(ws.path(), &partner, &["--partner", "incidents", "--fail-stale", "30"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("Stale: 1 recording(s) older than 30 day(s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("getIncident-4e66e501a0b8.json"), "{}", out.stdout);

    std::fs::write(&file, text).expect("restore");
    let out = drift(ws.path(), &partner, &["--partner", "incidents", "--fail-stale", "30"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("No recording is older than 30 day(s)"),
        "{}",
        out.stdout
    );
}

fn regex_replace_recorded_at(text: &str, at: &str) -> String {
    let mut v: Value = serde_json::from_str(text).expect("json");
    v["meta"]["recorded_at"] = Value::String(at.into());
    serde_json::to_string_pretty(&v).expect("json")
}

#[test]
fn bad_arguments_are_refused_before_anything_runs() {
    let ws = workspace_copy();
    let out = contrail(ws.path(), &["drift", "--partner", "nobody"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no recordings of \"nobody\""), "{}", out.stderr);
    let out = contrail(ws.path(), &["drift", "--report", "drift.txt"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains(".json, .md or .html"), "{}", out.stderr);
}

#[test]
fn an_unreachable_sandbox_is_a_harness_failure() {
    let ws = workspace_copy();
    let out = contrail(
        ws.path(),
        &[
            "drift",
            "--base-url",
            "ticketing=http://127.0.0.1:9",
            "--base-url",
            "incidents=http://127.0.0.1:9",
            "--name",
            "A ticket can be read back",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.all().contains("could not be reached"), "{}", out.all());
}

#[test]
fn a_live_run_over_recorded_partners_reports_drift_too() {
    let ws = workspace_copy();
    let partner = start_partner(&["--drift"]);
    let out = common::run_live(ws.path(), &partner, &["--name", "A ticket can be read back"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("Drift: "), "{}", out.stderr);
    assert!(out.stderr.contains("BREAKING  ticketing getTicket"), "{}", out.stderr);
}

#[test]
fn drift_keeps_to_the_rate_limit_where_an_unpaced_run_does_not() {
    // The sandbox allows every client 5 requests a second per API, as the contract says.
    let ws = workspace_copy();
    let partner = start_partner(&["--limit-all", "5"]);
    let out = drift(ws.path(), &partner, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("Verdict: no drift"), "{}", out.stdout);

    // The same suite unpaced (a live run compares too, but does not pace) trips the limit,
    // and the comparison says so: the 429s are the run's own doing.
    let mut args = vec!["run", "--target", "live", "--color", "never", "--jobs", "8"];
    let urls = both_partners(&partner.url);
    args.extend(urls.iter().map(String::as_str));
    let out = contrail(ws.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains(", now 429"), "{}", out.stderr);
}
