//! JUnit XML from a run report, for a merged report (whose shards ran elsewhere): one
//! testsuite per feature file, one testcase per scenario, the failure's class as its `type`,
//! pending and skipped scenarios as `<skipped>`. A single run writes the richer JUnit of
//! `results::junit` (every step in `<system-out>`) with `--junit`.

use std::fmt::Write as _;

use super::{Report, ScenarioRow};
use crate::results::junit::xml;

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

pub fn render(r: &Report) -> String {
    let failed = |s: &ScenarioRow| s.failed(r.strict);
    let skipped = |s: &ScenarioRow| !failed(s) && s.status != "passed";
    let mut files: Vec<&str> = Vec::new();
    for s in &r.scenarios {
        if !files.contains(&s.uri.as_str()) {
            files.push(&s.uri);
        }
    }
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"contrail\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">\n",
        r.scenarios.len(),
        r.scenarios.iter().filter(|s| failed(s)).count(),
        r.scenarios.iter().filter(|s| skipped(s)).count(),
        secs(r.scenarios.iter().map(|s| s.duration_ms).sum())
    );
    for file in files {
        let cases: Vec<&ScenarioRow> = r.scenarios.iter().filter(|s| s.uri == file).collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\" file=\"{}\">",
            xml(cases.first().map_or(file, |c| c.feature.as_str())),
            cases.len(),
            cases.iter().filter(|s| failed(s)).count(),
            cases.iter().filter(|s| skipped(s)).count(),
            secs(cases.iter().map(|s| s.duration_ms).sum()),
            xml(file)
        );
        for s in cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\">",
                xml(&s.name),
                xml(&s.feature),
                xml(&s.uri),
                s.line,
                secs(s.duration_ms)
            );
            let text = s.failure.clone().unwrap_or_default();
            if failed(s) {
                let _ = write!(
                    out,
                    "\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    ",
                    xml(s.class.as_deref().unwrap_or(&s.status)),
                    xml(text.lines().nth(1).or(text.lines().next()).unwrap_or_default()),
                    xml(&text)
                );
            } else if skipped(s) {
                let _ = write!(out, "\n      <skipped message=\"{}\"/>\n    ", xml(&s.status));
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
