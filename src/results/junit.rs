//! JUnit XML: one testsuite per feature file, one testcase per scenario (an outline row is a
//! scenario), `classname` the feature (and rule), a failure's `type` its class (`assertion`,
//! `invalid request`, `unauthenticated`, `forbidden`, `replay miss`, `undefined`,
//! `ambiguous`, `harness`), skipped and pending scenarios as `<skipped>`; every step with its
//! status in `<system-out>`, so a CI viewer shows where it stopped.

use std::fmt::Write as _;

use super::{ScenarioOutcome, Status};

/// Text for XML: escaped, and characters XML 1.0 cannot hold at all dropped.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

pub fn render(outcomes: &[ScenarioOutcome], strict: bool) -> String {
    let mut files: Vec<&str> = Vec::new();
    for o in outcomes {
        if !files.contains(&o.uri.as_str()) {
            files.push(&o.uri);
        }
    }
    let is_failure = |s: &Status| match s {
        Status::Failed(_) | Status::Undefined | Status::Ambiguous => true,
        Status::Pending => strict,
        Status::Passed | Status::Skipped => false,
    };
    let is_skipped = |s: &Status| matches!(s, Status::Skipped) || (matches!(s, Status::Pending) && !strict);
    let total_failures = outcomes.iter().filter(|o| is_failure(&o.status())).count();
    let total_skipped = outcomes.iter().filter(|o| is_skipped(&o.status())).count();
    let total_time: std::time::Duration = outcomes.iter().map(ScenarioOutcome::duration).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"contrail\" tests=\"{}\" failures=\"{total_failures}\" errors=\"0\" skipped=\"{total_skipped}\" time=\"{}\">\n",
        outcomes.len(),
        secs(total_time)
    );
    for file in files {
        let cases: Vec<&ScenarioOutcome> = outcomes.iter().filter(|o| o.uri == file).collect();
        let Some(first) = cases.first() else { continue };
        let failures = cases.iter().filter(|o| is_failure(&o.status())).count();
        let skipped = cases.iter().filter(|o| is_skipped(&o.status())).count();
        let time: std::time::Duration = cases.iter().map(|o| o.duration()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\" file=\"{}\">",
            xml(&format!("{}: {}", first.feature.keyword, first.feature.name)),
            cases.len(),
            secs(time),
            xml(file)
        );
        for o in cases {
            let mut classname = format!("{}: {}", o.feature.keyword, o.feature.name);
            if let Some(r) = &o.rule {
                let _ = write!(classname, " > {}: {}", r.keyword, r.name);
            }
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\">",
                xml(&format!("{}: {}", o.scenario.keyword, o.scenario.name)),
                xml(&classname),
                xml(&o.uri),
                o.scenario.line,
                secs(o.duration())
            );
            let status = o.status();
            let culprit = o.steps.iter().find(|s| s.status == status);
            let message = culprit.and_then(|s| s.message.clone()).unwrap_or_default();
            let first_line = message.lines().next().unwrap_or_default();
            if is_failure(&status) {
                let _ = write!(
                    out,
                    "\n      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    xml(status.class()),
                    xml(first_line),
                    xml(&format!(
                        "{}:{}:{}: {}{}\n{message}",
                        o.uri,
                        culprit.map_or(0, |s| s.line),
                        culprit.map_or(0, |s| s.column),
                        culprit.map(|s| s.keyword.as_str()).unwrap_or_default(),
                        culprit.map(|s| s.text.as_str()).unwrap_or_default()
                    ))
                );
            } else if is_skipped(&status) {
                let _ = write!(
                    out,
                    "\n      <skipped message=\"{}\"/>",
                    xml(if first_line.is_empty() {
                        status.word()
                    } else {
                        first_line
                    })
                );
            }
            let mut steps = String::new();
            for s in &o.steps {
                let _ = writeln!(steps, "{:<9} {}{}", s.status.word(), s.keyword, s.text);
            }
            let _ = writeln!(out, "\n      <system-out>{}</system-out>\n    </testcase>", xml(&steps));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
