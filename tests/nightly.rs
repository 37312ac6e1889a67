//! The nightly drift job as a team runs it: reports in every format written whatever happens,
//! a partner that is down as a finding of its own while the others are still judged, the
//! history telling new from old from fixed, `--partner` taking only what reaches the partner,
//! shards that cover the suite once and merge into the unsharded verdict, and the HTML report
//! in a real browser.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, browser, contrail, copy_dir, repo, start_partner};
use serde_json::Value;

fn workspace() -> tempfile::TempDir {
    let dir = common::workspace_copy();
    copy_dir(&repo().join("recordings"), &dir.path().join("recordings"));
    dir
}

/// The workspace with its @sut feature too (for what needs no system under test to start:
/// dry runs, and runs that leave @sut out).
fn full_workspace() -> tempfile::TempDir {
    let dir = workspace();
    std::fs::copy(
        repo().join("features/escalation-service.feature"),
        dir.path().join("features/escalation-service.feature"),
    )
    .expect("copy the @sut feature");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

/// A drift run with both partners' base URLs given, writing JSON, Markdown and HTML reports.
fn drift(dir: &Path, ticketing: &str, incidents: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out_dir = dir.join("out");
    let mut args: Vec<String> = vec![
        "drift".into(),
        "--color".into(),
        "never".into(),
        "--base-url".into(),
        format!("ticketing={ticketing}"),
        "--base-url".into(),
        format!("incidents={incidents}"),
    ];
    for ext in ["json", "md", "html"] {
        args.push("--report".into());
        args.push(out_dir.join(format!("report.{ext}")).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (contrail(dir, &args), out_dir)
}

/// One night with the ticketing sandbox drifted and the incidents sandbox down (nothing
/// listens on port 9). Its reports are read by both checks below: in files, and in a browser.
#[test]
fn a_night_with_a_partner_down() {
    let ws = workspace();
    let (out, dir) = {
        // Stopped (dropped) as soon as the run is over: nothing outlives the test.
        let partner = start_partner(&["--drift"]);
        drift(ws.path(), &partner.url, "http://127.0.0.1:9", &[])
    };
    a_partner_that_is_down_is_a_finding_and_the_others_are_still_judged_in_every_report(&out, &dir);
    the_html_report_renders_in_a_real_browser_and_fetches_nothing(&dir);
}

fn a_partner_that_is_down_is_a_finding_and_the_others_are_still_judged_in_every_report(out: &Output, dir: &Path) {
    assert_eq!(out.code, 3, "a partner down is exit 3\n{}", out.all());
    let r = json(&dir.join("report.json"));
    assert_eq!(r["verdict"], "unreachable", "{}", out.all());
    let findings = r["findings"].as_array().expect("findings");
    let has = |partner: &str, class: &str, place: &str| {
        findings
            .iter()
            .any(|f| f["partner"] == partner && f["class"] == class && f["place"] == place)
    };
    assert!(has("incidents", "unreachable", ""), "{findings:#?}");
    // The other partner's breaking drift is all there.
    assert!(has("ticketing", "breaking", "/customer_id"), "{findings:#?}");
    assert!(has("ticketing", "breaking", "/status"), "{findings:#?}");
    let row = |name: &str| {
        r["partners"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name).cloned())
            .unwrap_or_else(|| panic!("no row for {name}"))
    };
    assert_eq!(row("incidents")["health"], "red");
    assert!(
        row("incidents")["unreachable"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1:9")
    );
    assert_eq!(row("ticketing")["health"], "red");
    assert_eq!(
        row("ticketing")["contact"],
        "desk-api@partner.example (the support desk's API team)"
    );
    // Failed scenarios are listed with their failure, never a verdict of "none".
    let failed: Vec<&Value> = r["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|s| s["failure"].as_str().is_some_and(|f| !f.is_empty()))
    );

    let md = std::fs::read_to_string(dir.join("report.md")).expect("markdown");
    assert!(md.starts_with("# contrail drift: partner unreachable"), "{md}");
    assert!(md.contains("| `incidents` | 🔴 red |"), "{md}");
    assert!(md.contains("`/customer_id`"), "{md}");
    assert!(md.contains("## Failed scenarios"), "{md}");
    assert!(md.contains("tell desk-api@partner.example"), "{md}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    assert!(html.contains("partner-red") && html.contains("/customer_id"));
    for text in [&md, &html, &r.to_string()] {
        assert!(!text.contains("qa-secret"), "a client secret reached a report");
        assert!(!text.contains("Bearer ey"), "a token reached a report");
    }
}

#[test]
fn a_healthy_night_passes_with_green_rows_in_every_report() {
    let ws = workspace();
    let partner = start_partner(&[]);
    let (out, dir) = drift(ws.path(), &partner.url, &partner.url, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let r = json(&dir.join("report.json"));
    assert_eq!(r["verdict"], "passed");
    assert!(
        r["findings"].as_array().is_some_and(|f| f.is_empty()),
        "{}",
        r["findings"]
    );
    assert!(
        r["partners"]
            .as_array()
            .is_some_and(|p| p.len() == 2 && p.iter().all(|p| p["health"] == "green")),
        "{}",
        r["partners"]
    );
    assert_eq!(r["meta"]["contrail_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r["contracts"][0]["version"], "1.0.0");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("markdown");
    assert!(md.starts_with("# contrail drift: passed"), "{md}");
}

fn the_html_report_renders_in_a_real_browser_and_fetches_nothing(dir: &Path) {
    let Some(mut b) = browser::Browser::start() else {
        eprintln!(
            "SKIPPED: no Chromium here (.ci/run installs Debian's `chromium`; set CONTRAIL_CHROMIUM to use another)"
        );
        return;
    };
    let page = b.open(&browser::file_url(&dir.join("report.html")));
    let text = b.text(&page);
    assert!(text.contains("contrail drift: partner unreachable"), "{text}");
    assert!(text.contains("What to do next"), "{text}");
    // One row per partner, coloured.
    let rows = b.eval(
        &page,
        "[...document.querySelectorAll('tr.partner')].map(r => r.className + ' ' + r.cells[0].innerText)",
    );
    let rows: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(rows, ["partner partner-red incidents", "partner partner-red ticketing"]);
    assert!(text.contains("/customer_id"), "{text}");
    assert!(text.contains("sandbox unreachable"), "{text}");
    let requests = b.requests(&page);
    let page_url = browser::file_url(&dir.join("report.html"));
    let others: Vec<&String> = requests.iter().filter(|u| **u != page_url).collect();
    assert!(others.is_empty(), "the report fetched {others:?}");

    // The watch can fail: a page that does fetch (no CSP, an image on a local port) is seen.
    // Nothing listens there (a listener that never answered would hold the load event).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let leaky = dir.join("leaky.html");
    std::fs::write(
        &leaky,
        format!("<!doctype html><p>hello</p><img src=\"http://127.0.0.1:{port}/pixel.png\">"),
    )
    .expect("write");
    let page = b.open(&browser::file_url(&leaky));
    assert!(
        b.requests(&page)
            .iter()
            .any(|u| u.contains(&format!(":{port}/pixel.png"))),
        "the network watch saw nothing: {:?}",
        b.requests(&page)
    );
    // And the report's own policy would have stopped that image: the same page with the
    // report's CSP fetches nothing.
    let report = std::fs::read_to_string(dir.join("report.html")).expect("html");
    let guarded = dir.join("guarded.html");
    std::fs::write(
        &guarded,
        report.replace(
            "</main>",
            &format!("<img src=\"http://127.0.0.1:{port}/pixel.png\"></main>"),
        ),
    )
    .expect("write");
    let page = b.open(&browser::file_url(&guarded));
    assert!(
        !b.requests(&page).iter().any(|u| u.contains("pixel.png")),
        "the report's Content-Security-Policy let a fetch through"
    );
    assert!(
        b.blocked(&page)
            .iter()
            .any(|(u, why)| u.contains("pixel.png") && why == "csp"),
        "{:?}",
        b.blocked(&page)
    );
}

#[test]
fn the_history_tells_new_from_still_present_from_fixed() {
    let ws = workspace();
    let healthy = start_partner(&[]);
    let drifted = start_partner(&["--drift"]);
    let history = ws.path().join(".contrail/history.db");
    let night = |url: &str| {
        let (out, dir) = drift(
            ws.path(),
            url,
            url,
            &["--partner", "ticketing", "--history", s(&history)],
        );
        (out, json(&dir.join("report.json")))
    };
    let seen = |r: &Value, place: &str| {
        r["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["place"] == place).cloned())
            .map(|f| f["seen"]["state"].as_str().unwrap_or_default().to_string())
    };
    let (out, r1) = night(&healthy.url);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(r1["verdict"], "passed");

    let (out, r2) = night(&drifted.url);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(seen(&r2, "/customer_id").as_deref(), Some("new"), "{}", r2["findings"]);

    let (_, r3) = night(&drifted.url);
    let f = r3["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["place"] == "/customer_id").cloned())
        .expect("still there");
    assert_eq!(f["seen"]["state"], "still-present", "{f}");
    assert_eq!(f["seen"]["runs"], 2);
    assert_eq!(f["seen"]["since"], r2["meta"]["started_at"]);
    // The fingerprint is the same night after night.
    let print = |r: &Value| {
        r["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["place"] == "/customer_id").cloned())
            .map(|f| f["fingerprint"].clone())
    };
    assert_eq!(print(&r2), print(&r3));

    let (out, r4) = night(&healthy.url);
    assert_eq!(out.code, 0, "{}", out.all());
    let fixed = r4["fixed"].as_array().expect("fixed");
    assert!(
        fixed.iter().any(|f| f["place"] == "/customer_id"
            && f["seen"]["state"] == "fixed"
            && f["fingerprint"] == print(&r3).unwrap_or_default()),
        "{fixed:#?}"
    );
    // The trend: four nights, oldest first.
    let verdicts: Vec<&str> = r4["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .filter_map(|t| t["verdict"].as_str())
        .collect();
    assert_eq!(verdicts, ["passed", "breaking", "breaking", "passed"]);

    let listed = contrail(ws.path(), &["history", "--history", s(&history)]);
    assert_eq!(listed.code, 0, "{}", listed.all());
    assert!(
        listed.stdout.contains("trend, oldest to newest: .BB."),
        "{}",
        listed.stdout
    );
    assert_eq!(listed.stdout.matches("drift  live").count(), 4, "{}", listed.stdout);
    // Runs are stamped to the second: a second later, all four are older than "now".
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let pruned = contrail(
        ws.path(),
        &["history", "--history", s(&history), "--prune-older-than", "0s"],
    );
    assert!(pruned.stdout.contains("pruned 4 run(s)"), "{}", pruned.all());
}

#[test]
fn partner_takes_only_the_scenarios_that_reach_it() {
    let ws = full_workspace();
    let ids = |partner: &str| {
        let report = ws.path().join(format!("{partner}.json"));
        let out = contrail(
            ws.path(),
            &["run", "--dry-run", "--partner", partner, "--report", s(&report)],
        );
        assert_eq!(out.code, 0, "{}", out.all());
        let r = json(&report);
        r["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let ticketing = ids("ticketing");
    let incidents = ids("incidents");
    // Only ticketing's.
    assert!(
        ticketing.contains(&"A ticket can be read back".to_string()),
        "{ticketing:?}"
    );
    assert!(
        !incidents.contains(&"A ticket can be read back".to_string()),
        "{incidents:?}"
    );
    // Only incidents'.
    assert!(
        incidents.contains(&"A severity outside 1..3 is refused".to_string()),
        "{incidents:?}"
    );
    assert!(
        !ticketing.contains(&"A severity outside 1..3 is refused".to_string()),
        "{ticketing:?}"
    );
    // Both: a ticketing webhook whose checks (in a doc string) watch incidents.
    let both = "Any escalated ticket opens an incident whose severity follows the priority mapping".to_string();
    assert!(ticketing.contains(&both) && incidents.contains(&both));
    let out = contrail(ws.path(), &["run", "--dry-run", "--partner", "nobody"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("partners: incidents, ticketing"), "{}", out.stderr);
}

#[test]
fn three_shards_cover_the_suite_once_and_merge_into_the_unsharded_verdict() {
    let ws = full_workspace();
    let dir = ws.path();
    // Coverage: the whole bundled suite, planned without running it.
    let plan = |args: &[&str], name: &str| {
        let report = dir.join(name);
        let mut all = vec!["run", "--dry-run", "--report", s(&report)];
        all.extend(args);
        let out = contrail(dir, &all);
        assert_eq!(out.code, 0, "{}", out.all());
        json(&report)
    };
    let whole = plan(&[], "whole.json");
    let mut everyone: Vec<String> = whole["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_string())
        .collect();
    everyone.sort();
    let mut union = Vec::new();
    let mut sizes = Vec::new();
    for i in 1..=3 {
        let part = plan(&["--shard", &format!("{i}/3")], &format!("plan{i}.json"));
        let ids: Vec<String> = part["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s["id"].as_str().unwrap_or_default().to_string())
            .collect();
        sizes.push(ids.len());
        union.extend(ids);
    }
    union.sort();
    assert_eq!(union, everyone, "the shards do not cover the suite exactly once");
    assert!(
        sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1,
        "{sizes:?}"
    );

    // The merge path for real: the replayed suite (what needs no system under test), in three
    // shards, merged, against one unsharded run.
    let tags = "not @sut";
    let unsharded = dir.join("unsharded.json");
    let out = contrail(dir, &["run", "--tags", tags, "--report", s(&unsharded)]);
    assert_eq!(out.code, 0, "{}", out.all());
    let mut parts = Vec::new();
    let history = dir.join("night.db");
    let runs = || {
        let out = contrail(dir, &["history", "--history", s(&history), "--json"]);
        assert_eq!(out.code, 0, "{}", out.all());
        serde_json::from_str::<Value>(&out.stdout)
            .expect("history JSON")
            .as_array()
            .map_or(0, Vec::len)
    };
    for i in 1..=3 {
        let p = dir.join(format!("shard{i}.json"));
        let out = contrail(
            dir,
            &[
                "run",
                "--tags",
                tags,
                "--shard",
                &format!("{i}/3"),
                "--report",
                s(&p),
                "--history",
                s(&history),
            ],
        );
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(
            out.stderr.contains("a shard's run is not added to the history"),
            "{}",
            out.stderr
        );
        parts.push(p);
    }
    // A shard is a part of the night: remembered alone, the other shards' findings would
    // look fixed. The merge remembers the night, once.
    assert_eq!(runs(), 0, "a shard's run went into the history");
    let merged = dir.join("merged.json");
    let (html, junit, summary) = (dir.join("merged.html"), dir.join("merged.xml"), dir.join("summary.md"));
    let mut args = vec!["report", "merge"];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend([
        "--json",
        s(&merged),
        "--html",
        s(&html),
        "--junit",
        s(&junit),
        "--summary",
        s(&summary),
        "--history",
        s(&history),
    ]);
    let out = contrail(dir, &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(runs(), 1, "the merged night is remembered once");
    let (m, u) = (json(&merged), json(&unsharded));
    assert_eq!(m["verdict"], u["verdict"]);
    assert_eq!(m["counts"], u["counts"]);
    let ids = |r: &Value| {
        let mut v: Vec<String> = r["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .map(|s| s["id"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&m), ids(&u));
    let junit = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(junit.matches("<testcase ").count(), ids(&u).len());
    assert!(
        std::fs::read_to_string(&html)
            .expect("html")
            .contains("contrail run: passed")
    );
    assert!(
        std::fs::read_to_string(&summary)
            .expect("summary")
            .starts_with("# contrail run: passed")
    );

    // A missing shard, or the same shard twice, is refused rather than merged into a pass.
    let out = contrail(dir, &["report", "merge", s(&parts[0]), s(&parts[1])]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("a shard is missing"), "{}", out.stderr);
    let out = contrail(dir, &["report", "merge", s(&parts[0]), s(&parts[0]), s(&parts[1])]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("the shards overlap"), "{}", out.stderr);
}
