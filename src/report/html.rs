//! The report as one self-contained HTML page: inline CSS, an inline SVG trend, no script, and
//! a Content-Security-Policy that forbids every fetch, so it reads the same in a browser, in
//! a CI artifact viewer and offline, and can never call anywhere. Every text is escaped.

use std::fmt::Write as _;

use super::markdown::{day, duration, seen};
use super::{Finding, Health, Report, TrendPoint, Verdict};

// Text for HTML content and attribute values: the XML escape (`&apos;` is HTML5 too;
// characters no markup may hold are dropped).
use crate::results::junit::xml as esc;

const STYLE: &str = r#"
:root{--red:#c62828;--amber:#b26a00;--green:#2e7d32;--ink:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f6f7f9}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:0 20px 40px}
header.verdict{padding:22px 20px;color:#fff}header.verdict h1{margin:0 auto;max-width:1140px;font-size:26px}
header.verdict p{margin:6px auto 0;max-width:1140px;opacity:.95}
.v-error,.v-unreachable,.v-breaking,.v-failed{background:var(--red)}.v-compatible{background:var(--amber)}.v-passed{background:var(--green)}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:14px 18px}
h2{font-size:19px;margin:4px 0 12px}h3{font-size:16px;margin:16px 0 8px}
.counts{display:flex;flex-wrap:wrap;gap:10px}.count{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px}
.count b{display:block;font-size:22px}.count span{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f3f4f7;border-radius:6px;padding:10px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.health{display:inline-block;border-radius:10px;padding:1px 10px;color:#fff;font-weight:600;font-size:13px}
.health-red{background:var(--red)}.health-amber{background:var(--amber)}.health-green{background:var(--green)}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;border:1px solid var(--line);color:var(--muted)}
.tag-new{border-color:var(--red);color:var(--red)}.tag-fixed{border-color:var(--green);color:var(--green)}
.del{color:#a31515;background:#fdecec}.add{color:#116329;background:#e8f6ea}
details{margin:6px 0}summary{cursor:pointer}ol li,ul li{margin:4px 0}.muted{color:var(--muted)}
"#;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Error => "v-error",
        Verdict::Unreachable => "v-unreachable",
        Verdict::Breaking => "v-breaking",
        Verdict::Failed => "v-failed",
        Verdict::Compatible => "v-compatible",
        Verdict::Passed => "v-passed",
    }
}

fn health(h: Health) -> String {
    format!("<span class=\"health health-{0}\">{0}</span>", h.label())
}

fn count(out: &mut String, n: usize, what: &str) {
    let _ = write!(out, "<div class=\"count\"><b>{n}</b><span>{}</span></div>", esc(what));
}

/// A line diff with removed and added lines marked.
fn diff(d: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in d.lines() {
        let class = match line.chars().next() {
            Some('-') => " class=\"del\"",
            Some('+') => " class=\"add\"",
            _ => "",
        };
        let _ = writeln!(out, "<span{class}>{}</span>", esc(line));
    }
    out.push_str("</pre>");
    out
}

fn seen_tag(f: &Finding) -> String {
    let text = seen(&f.seen);
    if text.is_empty() {
        return String::new();
    }
    let class = match &f.seen {
        Some(super::Seen::New) => "tag tag-new",
        Some(super::Seen::Fixed { .. }) => "tag tag-fixed",
        _ => "tag",
    };
    format!("<span class=\"{class}\">{}</span>", esc(&text))
}

fn finding_table(out: &mut String, list: &[&Finding], diffs: bool) {
    let shown = list.len().min(super::ROWS_PER_CAUSE);
    let mut with_diff = 0;
    out.push_str(
        "<table><tr><th>Partner</th><th>Operation</th><th>Where</th><th>What</th><th>Seen</th><th>Recording / scenario</th></tr>",
    );
    for f in &list[..shown] {
        let _ = write!(
            out,
            "<tr class=\"finding\"><td><code>{}</code></td><td><code>{}</code></td><td><code class=\"pointer\">{}</code></td><td>{}",
            esc(&f.partner),
            esc(f.operation.as_deref().unwrap_or("")),
            esc(&f.place),
            esc(&f.message),
        );
        if f.occurrences > 1 {
            let _ = write!(out, " <span class=\"muted\">({} times)</span>", f.occurrences);
        }
        if diffs
            && with_diff < super::DIFFS_PER_CAUSE
            && let Some(d) = &f.diff
        {
            with_diff += 1;
            let _ = write!(
                out,
                "<details><summary>recorded vs live: <code>{}</code></summary>{}</details>",
                esc(f.request.as_deref().unwrap_or("")),
                diff(&format!("--- recorded\n+++ live\n{d}"))
            );
        }
        let _ = writeln!(
            out,
            "</td><td>{}</td><td>{}{}</td></tr>",
            seen_tag(f),
            f.recording
                .as_deref()
                .map(|r| format!("<code>{}</code>", esc(r)))
                .unwrap_or_default(),
            f.scenario
                .as_deref()
                .map(|s| format!("<br><span class=\"muted\">{}</span>", esc(s)))
                .unwrap_or_default()
        );
    }
    out.push_str("</table>");
    if list.len() > shown {
        let _ = write!(
            out,
            "<p class=\"muted\">and {} more finding(s) of this cause; every one is in the JSON report.</p>",
            list.len() - shown
        );
    }
}

/// Stacked bars per run: breaking, failed scenarios and unreachable partners in red shades,
/// compatible in amber; a run with nothing wrong is a small green tick.
fn trend_svg(points: &[TrendPoint]) -> String {
    let (w, h, pad) = (720.0f64, 150.0f64, 24.0f64);
    let max = points
        .iter()
        .map(|p| p.breaking + p.compatible + p.failed + p.unreachable)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (w - 2.0 * pad) / points.len().max(1) as f64;
    let bar = (slot * 0.6).clamp(4.0, 40.0);
    let mut out = format!(
        "<svg role=\"img\" aria-label=\"findings per run\" viewBox=\"0 0 {w} {h}\" width=\"100%\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let base = h - pad;
    let _ = write!(
        out,
        "<line x1=\"{pad}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#d9dde5\"/>",
        w - pad
    );
    for (i, p) in points.iter().enumerate() {
        let x = pad + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = base;
        let title = format!(
            "{}: {} — {} breaking, {} compatible, {} failed scenario(s), {} unreachable",
            p.started_at,
            p.verdict.label(),
            p.breaking,
            p.compatible,
            p.failed,
            p.unreachable
        );
        let _ = write!(out, "<g><title>{}</title>", esc(&title));
        for (n, colour) in [
            (p.unreachable, "#7f0000"),
            (p.breaking, "#c62828"),
            (p.failed, "#ef6c6c"),
            (p.compatible, "#f0a020"),
        ] {
            if n == 0 {
                continue;
            }
            let height = (n as f64 / max) * (h - 2.0 * pad);
            y -= height;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\" fill=\"{colour}\"/>"
            );
        }
        if y == base {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"3\" fill=\"#2e7d32\"/>",
                base - 3.0
            );
        }
        out.push_str("</g>");
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            out,
            "<text x=\"{pad}\" y=\"{}\" font-size=\"11\" fill=\"#5b6475\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#5b6475\" text-anchor=\"end\">{}</text>",
            h - 6.0,
            esc(day(&first.started_at)),
            w - pad,
            h - 6.0,
            esc(day(&last.started_at))
        );
    }
    out.push_str("</svg>");
    out
}

pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024 + r.findings.len() * 600);
    let title = format!("contrail {}: {}", r.command, r.verdict.label());
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<header class=\"verdict {}\" id=\"verdict\"><h1>{}</h1><p>{}</p></header><main>",
        verdict_class(r.verdict),
        esc(&title),
        esc(&r.headline())
    );
    if let Some(e) = &r.error {
        let _ = writeln!(
            out,
            "<section id=\"error\"><h2>The run could not start</h2><pre>{}</pre></section>",
            esc(e)
        );
    }

    let c = &r.counts;
    out.push_str("<section id=\"counts\"><div class=\"counts\">");
    count(&mut out, c.scenarios, "scenarios");
    count(&mut out, c.passed, "passed");
    count(&mut out, c.failed + c.undefined + c.ambiguous, "failed");
    count(&mut out, c.pending + c.skipped, "pending or skipped");
    count(
        &mut out,
        r.findings.iter().filter(|f| f.class == "breaking").count(),
        "breaking",
    );
    count(
        &mut out,
        r.findings.iter().filter(|f| f.class == "compatible").count(),
        "compatible",
    );
    count(&mut out, r.unreachable.len(), "unreachable");
    count(&mut out, r.fixed.len(), "fixed since last run");
    out.push_str("</div></section>\n");

    if !r.partners.is_empty() {
        out.push_str(
            "<section id=\"partners\"><h2>Partners</h2><table><tr><th>Partner</th><th>Health</th><th>Scenarios</th><th>Breaking</th><th>Compatible</th><th>Why</th><th>Contact</th></tr>",
        );
        for p in &r.partners {
            let _ = writeln!(
                out,
                "<tr class=\"partner partner-{}\"><td><code>{}</code></td><td>{}</td><td>{} passed, {} failed</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.health.label(),
                esc(&p.name),
                health(p.health),
                p.scenarios_passed,
                p.scenarios_failed,
                p.breaking,
                p.compatible,
                esc(&p.why.join("; ")),
                esc(p.info.contact.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table></section>\n");
    }

    if !r.next_steps.is_empty() {
        out.push_str("<section id=\"next\"><h2>What to do next</h2><ol>");
        for s in &r.next_steps {
            let _ = write!(out, "<li>{}</li>", esc(s));
        }
        out.push_str("</ol></section>\n");
    }

    let failed: Vec<_> = r.scenarios.iter().filter(|s| s.failed(r.strict)).collect();
    if !failed.is_empty() {
        let _ = write!(
            out,
            "<section id=\"failed\"><h2>Failed scenarios ({})</h2>",
            failed.len()
        );
        for s in failed {
            let _ = write!(
                out,
                "<details class=\"scenario\" open><summary><b>{}</b> <code>{}:{}</code> <span class=\"tag\">{}</span>{}</summary>",
                esc(&s.name),
                esc(&s.uri),
                s.line,
                esc(s.class.as_deref().unwrap_or(&s.status)),
                if s.flaky {
                    " <span class=\"tag\">flaky</span>"
                } else {
                    ""
                }
            );
            if let Some(f) = &s.failure {
                let _ = write!(out, "<pre>{}</pre>", esc(f));
            }
            out.push_str("</details>");
        }
        out.push_str("</section>\n");
    }

    if !r.findings.is_empty() {
        let _ = write!(out, "<section id=\"findings\"><h2>Findings ({})</h2>", r.findings.len());
        for (cause, list) in r.findings_by_cause() {
            let _ = write!(
                out,
                "<h3><span class=\"tag\">{}</span> <code>{}</code></h3>",
                esc(&list[0].class),
                esc(cause)
            );
            finding_table(&mut out, &list, true);
        }
        out.push_str("</section>\n");
    }

    if !r.fixed.is_empty() {
        let _ = write!(
            out,
            "<section id=\"fixed\"><h2>Fixed since the last run ({})</h2>",
            r.fixed.len()
        );
        let list: Vec<&Finding> = r.fixed.iter().collect();
        finding_table(&mut out, &list, false);
        out.push_str("</section>\n");
    }

    if r.trend.len() > 1 {
        let _ = writeln!(
            out,
            "<section id=\"trend\"><h2>Trend (last {} runs)</h2>{}</section>",
            r.trend.len(),
            trend_svg(&r.trend)
        );
    }

    let m = &r.meta;
    out.push_str("<section id=\"about\"><h2>About this run</h2><table>");
    let mut row = |k: &str, v: String| {
        let _ = write!(out, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    row(
        "Command",
        format!("<code>contrail {}</code> against {}", esc(&r.command), esc(&m.target)),
    );
    row(
        "Started",
        format!("{} ({})", esc(&m.started_at), duration(m.duration_ms)),
    );
    row("contrail", esc(&m.contrail_version));
    if let Some(commit) = &m.git_commit {
        row("Commit", format!("<code>{}</code>", esc(commit)));
    }
    for ct in &r.contracts {
        row(
            &format!("Contract {}", ct.name),
            format!("{} (<code>{}</code>)", esc(&ct.version), esc(&ct.file)),
        );
    }
    for p in &r.partners {
        if let Some(u) = &p.info.live_url {
            row(
                &format!("Live target of {}", p.name),
                format!("<code>{}</code>", esc(u)),
            );
        }
    }
    if let Some(s) = &m.shard {
        row("Shard", esc(s));
    }
    if !m.merged_from.is_empty() {
        row("Merged from", esc(&m.merged_from.join(", ")));
    }
    if let Some(p) = &m.partner {
        row("Only partner", format!("<code>{}</code>", esc(p)));
    }
    out.push_str("</table></section>\n");

    if let Some(d) = &r.drift {
        let notes = d.notes();
        if !notes.is_empty() {
            out.push_str("<section id=\"drift-details\"><h2>Drift details</h2>");
            for n in notes {
                let _ = write!(out, "<details><summary>{} ({})</summary>", esc(n.title), n.items.len());
                if !n.advice.is_empty() {
                    let _ = write!(out, "<p>{}</p>", esc(n.advice));
                }
                out.push_str("<ul>");
                for i in &n.items {
                    let _ = write!(out, "<li><code>{}</code></li>", esc(i));
                }
                out.push_str("</ul></details>");
            }
            out.push_str("</section>\n");
        }
    }
    out.push_str("</main></body></html>\n");
    out
}
