//! A run killed with SIGKILL while the history is being written leaves the file readable with
//! every earlier run whole: each run goes in in one transaction.
//!
//! The test re-runs its own binary as a child that does nothing but append large runs, so
//! nearly every kill lands inside a write, then checks the file after each kill: the database
//! is intact and every stored run has exactly the findings and scenarios its row counts. The
//! same check is shown to catch torn runs by a writer that commits row by row.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use contrail::history::History;
use contrail::report::{Facts, Finding, Meta, Report, ScenarioRow};

const CHILD_DB: &str = "CONTRAIL_TEST_HISTORY_DB";
const CHILD_MODE: &str = "CONTRAIL_TEST_HISTORY_MODE";
const FINDINGS: usize = 3000;
const SCENARIOS: usize = 400;

fn big_run(n: usize) -> Report {
    let mut r = Report::build(Facts {
        command: "drift".into(),
        meta: Meta {
            started_at: format!("2026-11-{:02}T02:{:02}:{:02}Z", 1 + n / 3600 % 28, n / 60 % 60, n % 60),
            target: "live".into(),
            contrail_version: "0.1.0".into(),
            ..Default::default()
        },
        strict: true,
        exit_code: 1,
        error: None,
        contracts: Vec::new(),
        partners: BTreeMap::new(),
        scenarios: (0..SCENARIOS)
            .map(|i| ScenarioRow {
                id: format!("Tickets: scenario {i}"),
                uri: "features/t.feature".into(),
                line: i + 1,
                name: format!("scenario {i}"),
                feature: "Feature: Tickets".into(),
                status: if i % 7 == 0 { "failed" } else { "passed" }.into(),
                class: None,
                failure: None,
                duration_ms: 10,
                partners: vec!["ticketing".into()],
                flaky: false,
            })
            .collect(),
        drift: None,
    });
    r.findings = (0..FINDINGS)
        .map(|i| Finding {
            fingerprint: format!("{n:08x}{i:08x}"),
            partner: "ticketing".into(),
            operation: Some("getTicket".into()),
            place: format!("/items/*/field{i}"),
            class: "breaking".into(),
            cause: "removed".into(),
            message: "x".repeat(200),
            recording: None,
            scenario: None,
            request: None,
            diff: None,
            occurrences: 1,
            seen: None,
        })
        .collect();
    r
}

/// Not a test on its own: the writer the parent kills.
#[test]
fn history_writer_child() {
    let Ok(db) = std::env::var(CHILD_DB) else { return };
    let path = Path::new(&db);
    let mut h = History::open(path).expect("open");
    let torn = std::env::var(CHILD_MODE).is_ok_and(|m| m == "row-by-row");
    let conn = torn.then(|| {
        let c = rusqlite::Connection::open(path).expect("open");
        c.execute_batch("PRAGMA synchronous = OFF").expect("pragma");
        c
    });
    for n in 0usize.. {
        let r = big_run(n);
        match &conn {
            None => {
                h.append(&r).expect("append");
            }
            // What a writer without a transaction would do: every row its own commit.
            Some(c) => {
                c.execute(
                    "INSERT INTO runs (started_at, command, target, verdict, exit_code, duration_ms, contrail_version,
                        contracts, scenarios, failed, breaking, compatible, unreachable)
                     VALUES (?1, 'drift', 'live', 'breaking', 1, 0, '0.1.0', '[]', ?2, 0, ?3, 0, 0)",
                    rusqlite::params![r.meta.started_at, SCENARIOS as i64, FINDINGS as i64],
                )
                .expect("run");
                let id = c.last_insert_rowid();
                for f in &r.findings {
                    c.execute(
                        "INSERT INTO findings (run_id, fingerprint, partner, finding) VALUES (?1, ?2, ?3, '{}')",
                        rusqlite::params![id, f.fingerprint, f.partner],
                    )
                    .expect("finding");
                }
                for s in &r.scenarios {
                    c.execute(
                        "INSERT INTO scenario_results (run_id, scenario_id, uri, status, duration_ms) VALUES (?1, ?2, ?3, ?4, 1)",
                        rusqlite::params![id, s.id, s.uri, s.status],
                    )
                    .expect("scenario");
                }
            }
        }
    }
}

/// Whether the file is intact and every run in it whole; how many runs.
fn check(path: &Path) -> Result<usize, String> {
    let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if ok != "ok" {
        return Err(format!("integrity_check: {ok}"));
    }
    let mut st = c
        .prepare(
            "SELECT r.id, r.breaking, r.scenarios,
                (SELECT count(*) FROM findings f WHERE f.run_id = r.id),
                (SELECT count(*) FROM scenario_results s WHERE s.run_id = r.id)
             FROM runs r",
        )
        .map_err(|e| e.to_string())?;
    let rows: Vec<(i64, i64, i64, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for (id, breaking, scenarios, findings, results) in &rows {
        if breaking != findings || scenarios != results {
            return Err(format!(
                "run {id} is torn: {findings} of {breaking} findings, {results} of {scenarios} scenarios"
            ));
        }
    }
    Ok(rows.len())
}

/// Kills a writer child `rounds` times; the first check that fails, or the runs stored.
fn kill_rounds(mode: &str, rounds: usize) -> Result<usize, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("history.db");
    // The schema exists before the first child, so a kill can never land in its creation.
    drop(History::open(&db).expect("create"));
    let exe = std::env::current_exe().expect("exe");
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() as u64)
        | 1;
    let mut runs = 0;
    for _ in 0..rounds {
        let mut child = Command::new(&exe)
            .args(["--exact", "history_writer_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_DB, &db)
            .env(CHILD_MODE, mode)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(200 + seed % 300));
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        let now = check(&db)?;
        assert!(now >= runs, "runs were lost: {runs} before, {now} after");
        runs = now;
    }
    // And contrail still reads it as a history.
    let listed = History::open(&db)?.runs(usize::MAX >> 1)?.len();
    if listed != runs {
        return Err(format!("contrail lists {listed} runs of {runs}"));
    }
    Ok(runs)
}

#[test]
fn a_run_killed_while_writing_the_history_leaves_every_earlier_run_whole() {
    let runs = kill_rounds("transaction", 12).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{runs} whole runs after 12 kills");
    assert!(runs > 0, "no run was ever written: the writer is too slow for the test");
}

#[test]
fn the_check_catches_a_writer_that_commits_row_by_row() {
    let torn = kill_rounds("row-by-row", 12);
    assert!(
        torn.is_err(),
        "no kill tore a row-by-row write: the check proves nothing"
    );
}
