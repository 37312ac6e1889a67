//! The run report with 10,000 findings (each with a recorded-vs-live diff) and 1,000
//! scenarios: how long each format takes to render and write, and how big the files are. The
//! issue's target: the HTML under 1 s and under 5 MB. Prints the figures; asserts nothing.
//!
//!     cargo bench --bench report_render

use std::collections::BTreeMap;
use std::time::Instant;

use contrail::report::{Facts, Finding, Meta, PartnerInfo, Report, ScenarioRow, Seen, html, markdown};

fn report() -> Report {
    let mut partners = BTreeMap::new();
    for p in 0..20 {
        partners.insert(
            format!("partner-{p:02}"),
            PartnerInfo {
                contract: "c".into(),
                contact: Some(format!("api-{p}@partner.example")),
                live_url: Some(format!("https://sandbox-{p}.partner.example/")),
            },
        );
    }
    let mut r = Report::build(Facts {
        command: "drift".into(),
        meta: Meta {
            started_at: "2026-11-28T02:00:00Z".into(),
            target: "live".into(),
            contrail_version: "0.1.0".into(),
            ..Default::default()
        },
        strict: true,
        exit_code: 1,
        error: None,
        contracts: Vec::new(),
        partners: partners.clone(),
        scenarios: (0..1000)
            .map(|i| ScenarioRow {
                id: format!("Feature {}: scenario {i}", i % 50),
                uri: format!("features/f{}.feature", i % 50),
                line: i + 1,
                name: format!("scenario {i}"),
                feature: format!("Feature: Feature {}", i % 50),
                status: if i % 10 == 0 { "failed" } else { "passed" }.into(),
                class: (i % 10 == 0).then(|| "assertion".to_string()),
                failure: (i % 10 == 0)
                    .then(|| format!("Then the response status is 200 (line {i})\nexpected 200, got 500")),
                duration_ms: 120,
                partners: vec![format!("partner-{:02}", i % 20)],
                flaky: i % 97 == 0,
            })
            .collect(),
        drift: None,
    });
    let diff = (0..12)
        .map(|l| format!("-   \"field{l}\": \"old value {l}\",\n+   \"field{l}\": \"new value {l}\",\n"))
        .collect::<String>();
    r.findings = (0..10_000)
        .map(|i| Finding {
            fingerprint: format!("{i:016x}"),
            partner: format!("partner-{:02}", i % 20),
            operation: Some(format!("operation{}", i % 300)),
            place: format!("/items/*/field{}", i % 40),
            class: if i % 3 == 0 { "breaking" } else { "compatible" }.into(),
            cause: format!("api.yaml#/components/schemas/S{}/required", i % 150),
            message: "breaks the contract's schema for 200: required by the contract, but missing".into(),
            recording: Some(format!(
                "recordings/partner-{:02}/operation{}-{i:012x}.json",
                i % 20,
                i % 300
            )),
            scenario: Some(format!("Feature {}: scenario {}", i % 50, i % 1000)),
            request: Some(format!("GET /items/{i}")),
            diff: Some(diff.clone()),
            occurrences: 1 + i % 4,
            seen: Some(if i % 2 == 0 {
                Seen::New
            } else {
                Seen::StillPresent {
                    since: "2026-11-20T02:00:00Z".into(),
                    runs: 8,
                }
            }),
        })
        .collect();
    r.settle(&partners);
    r
}

fn main() {
    let r = report();
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "report with {} findings, {} scenarios, {} partners",
        r.findings.len(),
        r.scenarios.len(),
        r.partners.len()
    );
    for (name, ext) in [("json", "json"), ("markdown", "md"), ("html", "html")] {
        let path = dir.path().join(format!("report.{ext}"));
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let text = match name {
                "json" => r.to_json(),
                "markdown" => markdown::render(&r),
                _ => html::render(&r),
            };
            // As the run writes it: masked, then atomically.
            let text = contrail::secrets::mask_text(&text, contrail::secrets::MASK).into_owned();
            contrail::recording::write_atomic(&path, text.as_bytes()).expect("write");
            best = best.min(t.elapsed().as_secs_f64());
            size = text.len();
        }
        println!(
            "{name:>8}: {:7.1} ms to render and write (best of 5), {:6.2} MB",
            best * 1000.0,
            size as f64 / 1e6
        );
    }
}
