use super::*;
use crate::report::{Facts, Meta, PartnerInfo, ScenarioRow};

fn report(started_at: &str, findings: &[(&str, &str)], scenario_status: &str, unreachable: bool) -> Report {
    use crate::drift::{Change, Checked, Class, Finding as DriftFinding, Outcome, Unreachable};
    let checked = findings
        .iter()
        .map(|(op, place)| Checked {
            partner: "ticketing".into(),
            file: format!("recordings/ticketing/{op}-1.json").into(),
            operation: Some(op.to_string()),
            scenario: Some("Tickets: one".into()),
            request: "GET /tickets/T-1".into(),
            findings: vec![DriftFinding::new(
                Class::Breaking,
                place,
                Change::Removed,
                format!("{place} is gone"),
            )],
            diff: None,
            accepted: false,
        })
        .collect();
    let outcome = Outcome {
        checked,
        unreachable: if unreachable {
            vec![Unreachable {
                partner: "ticketing".into(),
                target: "http://127.0.0.1:1/".into(),
                error: "connection refused".into(),
                requests: 3,
            }]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let drift = crate::drift::report::Report::new(outcome, Path::new(""), BTreeMap::new(), None, Vec::new(), false);
    let mut partners = BTreeMap::new();
    partners.insert("ticketing".to_string(), PartnerInfo::default());
    Report::build(Facts {
        command: "drift".into(),
        meta: Meta {
            started_at: started_at.into(),
            target: "live".into(),
            contrail_version: "0.1.0".into(),
            ..Default::default()
        },
        strict: true,
        exit_code: 0,
        error: None,
        contracts: Vec::new(),
        partners,
        scenarios: vec![ScenarioRow {
            id: "Tickets: one".into(),
            uri: "features/t.feature".into(),
            line: 3,
            name: "one".into(),
            feature: "Feature: Tickets".into(),
            status: scenario_status.into(),
            class: None,
            failure: None,
            duration_ms: 40,
            partners: vec!["ticketing".into()],
            flaky: false,
        }],
        drift: Some(drift),
    })
}

fn night(h: &mut History, r: &mut Report) {
    h.annotate(r, FLAKY_WINDOW).unwrap();
    h.append(r).unwrap();
}

#[test]
fn a_finding_is_new_then_still_present_then_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h/history.db")).unwrap();
    let mut r1 = report("2026-11-01T02:00:00Z", &[], "passed", false);
    night(&mut h, &mut r1);
    assert!(r1.fixed.is_empty() && r1.findings.is_empty());

    let mut r2 = report("2026-11-02T02:00:00Z", &[("getTicket", "/title")], "passed", false);
    night(&mut h, &mut r2);
    assert_eq!(r2.findings[0].seen, Some(Seen::New));

    let mut r3 = report(
        "2026-11-03T02:00:00Z",
        &[("getTicket", "/title"), ("listTickets", "/items/*/id")],
        "passed",
        false,
    );
    night(&mut h, &mut r3);
    let title = r3.findings.iter().find(|f| f.place == "/title").unwrap();
    assert_eq!(
        title.seen,
        Some(Seen::StillPresent {
            since: "2026-11-02T02:00:00Z".into(),
            runs: 2
        })
    );
    assert_eq!(
        r3.findings.iter().find(|f| f.place == "/items/*/id").unwrap().seen,
        Some(Seen::New)
    );
    assert!(
        r3.next_steps.iter().any(|s| s.contains("since 2026-11-02")),
        "{:?}",
        r3.next_steps
    );

    // The sandbox is down: nothing is said fixed, and the outage itself is new.
    let mut r4 = report("2026-11-04T02:00:00Z", &[], "failed", true);
    night(&mut h, &mut r4);
    assert!(r4.fixed.is_empty(), "{:?}", r4.fixed);
    assert_eq!(r4.findings[0].class, "unreachable");
    assert_eq!(r4.findings[0].seen, Some(Seen::New));

    // Back up and healthy: the outage and both findings of the last night it was up are fixed
    // (the outage night is skipped when judging them, not taken as "gone").
    let mut r5 = report("2026-11-05T02:00:00Z", &[("getTicket", "/title")], "passed", false);
    night(&mut h, &mut r5);
    assert_eq!(
        r5.findings[0].seen,
        Some(Seen::StillPresent {
            since: "2026-11-02T02:00:00Z".into(),
            runs: 3
        }),
        "the outage night neither counts nor breaks the streak"
    );
    let fixed: Vec<&str> = r5.fixed.iter().map(|f| f.class.as_str()).collect();
    assert_eq!(fixed, vec!["unreachable"]);

    let mut r6 = report("2026-11-06T02:00:00Z", &[], "passed", false);
    night(&mut h, &mut r6);
    assert_eq!(r6.fixed.len(), 1);
    assert_eq!(r6.fixed[0].place, "/title");
    assert_eq!(
        r6.fixed[0].seen,
        Some(Seen::Fixed {
            last_seen: "2026-11-05T02:00:00Z".into()
        })
    );
    // The trend: the five earlier nights and this one, oldest first.
    assert_eq!(r6.trend.len(), 6);
    assert_eq!(r6.trend[3].verdict, Verdict::Unreachable);
    assert_eq!(h.runs(100).unwrap().len(), 6);
    // Scenario one failed on night 4, but the sandbox was down: that says nothing of the
    // scenario, which is not flaky...
    assert!(!r6.scenarios[0].flaky);
    // ...while a failure on a night where every partner kept its contract makes it so.
    let mut r7 = report("2026-11-07T02:00:00Z", &[], "failed", false);
    night(&mut h, &mut r7);
    assert_eq!(r7.verdict, Verdict::Failed);
    assert!(r7.scenarios[0].flaky);
    assert!(r7.next_steps.iter().any(|s| s.contains("flaky")), "{:?}", r7.next_steps);
}

#[test]
fn runs_of_another_command_or_target_are_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("history.db")).unwrap();
    let mut replay = report("2026-11-01T02:00:00Z", &[("getTicket", "/title")], "failed", false);
    replay.meta.target = "replay".into();
    night(&mut h, &mut replay);
    let mut live = report("2026-11-02T02:00:00Z", &[("getTicket", "/title")], "passed", false);
    night(&mut h, &mut live);
    assert_eq!(live.findings[0].seen, Some(Seen::New));
    assert!(!live.scenarios[0].flaky);
}

#[test]
fn pruning_forgets_old_runs_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let mut h = History::open(&path).unwrap();
    for day in 1..=3 {
        let mut r = report(
            &format!("2026-11-0{day}T02:00:00Z"),
            &[("getTicket", "/title")],
            "passed",
            false,
        );
        night(&mut h, &mut r);
    }
    assert_eq!(h.prune_before("2026-11-02T00:00:00Z").unwrap(), 1);
    assert_eq!(h.runs(10).unwrap().len(), 2);
    drop(h);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len() + 1))
        .unwrap();
    drop(conn);
    let e = History::open(&path).err().unwrap();
    assert!(e.contains("newer contrail"), "{e}");
}
