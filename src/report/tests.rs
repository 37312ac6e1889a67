use super::*;
use crate::drift::{Change, Checked, Finding as DriftFinding};

fn scenario(id: &str, status: &str, partners: &[&str]) -> ScenarioRow {
    ScenarioRow {
        id: id.into(),
        uri: "features/t.feature".into(),
        line: 3,
        name: id.into(),
        feature: "Feature: Tickets".into(),
        status: status.into(),
        class: (status == "failed").then(|| "assertion".to_string()),
        failure: (status == "failed")
            .then(|| "Then the response status is 201 (line 5)\nexpected 201, got 500".to_string()),
        duration_ms: 12,
        partners: partners.iter().map(|p| p.to_string()).collect(),
        flaky: false,
    }
}

fn facts(scenarios: Vec<ScenarioRow>, drift: Option<DriftReport>) -> Facts {
    let mut partners = BTreeMap::new();
    for p in ["ticketing", "incidents"] {
        partners.insert(
            p.to_string(),
            PartnerInfo {
                contract: "support-escalation".into(),
                contact: (p == "ticketing").then(|| "api-team@desk.example".to_string()),
                live_url: None,
            },
        );
    }
    Facts {
        command: "drift".into(),
        meta: Meta {
            target: "live".into(),
            ..Default::default()
        },
        strict: true,
        exit_code: 1,
        error: None,
        contracts: Vec::new(),
        partners,
        scenarios,
        drift,
    }
}

fn drift_with(class: Class, place: &str) -> DriftReport {
    let outcome = crate::drift::Outcome {
        checked: vec![Checked {
            partner: "ticketing".into(),
            file: "recordings/ticketing/getTicket-1.json".into(),
            operation: Some("getTicket".into()),
            scenario: Some("Tickets: A ticket can be read back".into()),
            request: "GET /tickets/T-1".into(),
            findings: vec![DriftFinding::new(
                class,
                place,
                Change::Removed,
                format!("{place} is gone <b>"),
            )],
            diff: Some("-  \"title\": \"a\"\n".into()),
            accepted: false,
        }],
        ..Default::default()
    };
    DriftReport::new(
        outcome,
        std::path::Path::new(""),
        BTreeMap::new(),
        None,
        Vec::new(),
        false,
    )
}

#[test]
fn a_failed_scenario_fails_the_verdict_and_is_listed_in_every_format() {
    let r = Report::build(facts(
        vec![
            scenario("ok", "passed", &["ticketing"]),
            scenario("broken", "failed", &["incidents"]),
        ],
        Some(drift_with(Class::VolatileIgnored, "/updated_at")),
    ));
    assert_eq!(r.verdict, Verdict::Failed);
    let md = markdown::render(&r);
    assert!(md.contains("# contrail drift: scenarios failed"), "{md}");
    assert!(
        md.contains("**broken**") && md.contains("expected 201, got 500"),
        "{md}"
    );
    let html = html::render(&r);
    assert!(html.contains("scenarios failed") && html.contains("expected 201, got 500"));
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["verdict"], "failed");
    assert_eq!(json["scenarios"][1]["status"], "failed");
    // The partner the failed scenario reaches is red; the other green.
    let row = |n: &str| r.partners.iter().find(|p| p.name == n).unwrap().health;
    assert_eq!(row("incidents"), Health::Red);
    assert_eq!(row("ticketing"), Health::Green);

    let passing = Report::build(facts(vec![scenario("ok", "passed", &["ticketing"])], None));
    assert_eq!(passing.verdict, Verdict::Passed);
    assert!(passing.partners.iter().all(|p| p.health == Health::Green));
}

#[test]
fn breaking_drift_names_the_contact_and_compatible_drift_says_how_to_accept() {
    let r = Report::build(facts(
        vec![scenario("ok", "passed", &["ticketing"])],
        Some(drift_with(Class::Breaking, "/title")),
    ));
    assert_eq!(r.verdict, Verdict::Breaking);
    assert_eq!(r.findings.len(), 1);
    assert!(
        r.next_steps.iter().any(|s| s.contains("api-team@desk.example")),
        "{:?}",
        r.next_steps
    );
    let c = Report::build(facts(
        vec![scenario("ok", "passed", &["ticketing"])],
        Some(drift_with(Class::Compatible, "/title")),
    ));
    assert_eq!(c.verdict, Verdict::Compatible);
    assert!(
        c.next_steps
            .iter()
            .any(|s| s.contains("contrail drift --accept --partner ticketing"))
    );
    assert_eq!(
        c.partners.iter().find(|p| p.name == "ticketing").unwrap().health,
        Health::Amber
    );
}

#[test]
fn fingerprints_ignore_array_indexes_and_tell_findings_apart() {
    let a = fingerprint("ticketing", Some("getTicket"), "/items/*/id", "breaking", "removed");
    assert_eq!(
        a,
        fingerprint("ticketing", Some("getTicket"), "/items/*/id", "breaking", "removed")
    );
    assert_ne!(
        a,
        fingerprint("incidents", Some("getTicket"), "/items/*/id", "breaking", "removed")
    );
    assert_ne!(
        a,
        fingerprint("ticketing", Some("getTicket"), "/items/*/id", "compatible", "removed")
    );
    // The place is normalised before it is printed: replay 3 and replay 7 are one finding.
    let r = Report::build(facts(Vec::new(), Some(drift_with(Class::Breaking, "/items/3/id"))));
    assert_eq!(r.findings[0].place, "/items/*/id");
}

#[test]
fn the_html_escapes_what_it_shows_and_can_fetch_nothing() {
    let r = Report::build(facts(
        vec![scenario("<img src=x onerror=alert(1)>", "failed", &["ticketing"])],
        Some(drift_with(Class::Breaking, "/title")),
    ));
    let html = html::render(&r);
    assert!(!html.contains("<img src=x"), "unescaped scenario name");
    assert!(!html.contains("gone <b>"), "unescaped finding message");
    assert!(html.contains("&lt;img src=x"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src=\"http"));
}

#[test]
fn merging_shards_counts_each_scenario_once_and_refuses_overlap() {
    let part = |label: &str, scenarios| merge::Part {
        label: label.into(),
        report: Report::build(facts(scenarios, None)),
    };
    let merged = merge::merge(vec![
        part("a.json", vec![scenario("one", "passed", &["ticketing"])]),
        part("b.json", vec![scenario("two", "failed", &["incidents"])]),
    ])
    .unwrap();
    assert_eq!(
        (merged.counts.scenarios, merged.counts.passed, merged.counts.failed),
        (2, 1, 1)
    );
    assert_eq!(merged.verdict, Verdict::Failed);
    let err = merge::merge(vec![
        part("a.json", vec![scenario("one", "passed", &["ticketing"])]),
        part("b.json", vec![scenario("one", "passed", &["ticketing"])]),
    ])
    .unwrap_err();
    assert!(err.contains("overlap"), "{err}");
}

#[test]
fn many_findings_of_one_cause_show_a_few_rows_and_diffs_and_say_how_many_more() {
    let mut r = Report::build(facts(Vec::new(), Some(drift_with(Class::Breaking, "/title"))));
    let one = r.findings[0].clone();
    r.findings = (0..500)
        .map(|i| Finding {
            fingerprint: format!("{i:016x}"),
            place: format!("/items/*/f{i}"),
            ..one.clone()
        })
        .collect();
    let html = html::render(&r);
    assert_eq!(html.matches("<tr class=\"finding\">").count(), ROWS_PER_CAUSE);
    assert_eq!(html.matches("recorded vs live:").count(), DIFFS_PER_CAUSE);
    assert!(html.contains(&format!("and {} more finding(s) of this cause", 500 - ROWS_PER_CAUSE)));
    let md = markdown::render(&r);
    assert!(md.contains(&format!("and {} more finding(s) of this cause", 500 - ROWS_PER_CAUSE)));
    // The JSON keeps every one.
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 500);
}

#[test]
fn a_drifted_recording_is_shown_once_and_the_notes_are_in_markdown_and_html_alike() {
    let mut d = drift_with(Class::Breaking, "/title");
    d.not_exercised.push("recordings/ticketing/old-1.json".into());
    let r = Report::build(facts(Vec::new(), Some(d)));
    let md = markdown::render(&r);
    // The findings carry the recording and its diff; the drift details do not repeat them.
    assert_eq!(md.matches("recordings/ticketing/getTicket-1.json").count(), 1, "{md}");
    assert_eq!(md.matches("--- recorded").count(), 1, "{md}");
    assert!(
        md.contains("### Recorded but not replayed (1)\n\n- `recordings/ticketing/old-1.json`"),
        "{md}"
    );
    let html = html::render(&r);
    assert!(
        html.contains("<summary>Recorded but not replayed (1)</summary>"),
        "{html}"
    );
    assert!(html.contains("<code>recordings/ticketing/old-1.json</code>"));

    // Nothing to note: no section at all.
    let quiet = Report::build(facts(Vec::new(), Some(drift_with(Class::Breaking, "/title"))));
    assert!(!markdown::render(&quiet).contains("Drift details"));
    assert!(!html::render(&quiet).contains("drift-details"));
}
