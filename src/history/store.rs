//! The SQL behind `History`: the schema and its migrations, one append per transaction, and
//! the reads the reports need.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use super::{PartnerRun, RunRow, verdict_of};
use crate::report::{Finding, Report, TrendPoint};

/// Schema versions, in order: `MIGRATIONS[i]` takes a file from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, each partner's state in it, its findings and its scenarios.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        command TEXT NOT NULL,
        target TEXT NOT NULL,
        verdict TEXT NOT NULL,
        exit_code INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        contrail_version TEXT NOT NULL,
        git_commit TEXT,
        contracts TEXT NOT NULL,
        partner_filter TEXT,
        scenarios INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        breaking INTEGER NOT NULL,
        compatible INTEGER NOT NULL,
        unreachable INTEGER NOT NULL
    );
    CREATE INDEX runs_by_kind ON runs (command, target, started_at);
    CREATE TABLE partner_results (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        partner TEXT NOT NULL,
        health TEXT NOT NULL,
        checked INTEGER NOT NULL,
        reachable INTEGER NOT NULL,
        PRIMARY KEY (run_id, partner)
    );
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        partner TEXT NOT NULL,
        finding TEXT NOT NULL,
        PRIMARY KEY (run_id, fingerprint)
    );
    CREATE INDEX findings_by_partner ON findings (partner, run_id);
    CREATE TABLE scenario_results (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        scenario_id TEXT NOT NULL,
        uri TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        PRIMARY KEY (run_id, scenario_id)
    );
    CREATE INDEX scenarios_by_id ON scenario_results (scenario_id, run_id);",
    // 2: what partners verified with the bundles they were given (`contrail verify --import`).
    "CREATE TABLE verifications (
        id INTEGER PRIMARY KEY,
        partner TEXT NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        verified_at TEXT NOT NULL,
        verdict TEXT NOT NULL,
        target TEXT NOT NULL,
        api_version TEXT,
        result TEXT NOT NULL,
        UNIQUE (partner, bundle_sha256, verified_at)
    );
    CREATE INDEX verifications_by_partner ON verifications (partner, verified_at);",
];

/// Remembers a partner's verification result; false when the same result is there already.
pub(super) fn add_verification(
    conn: &mut Connection,
    r: &crate::report::verification::VerificationResult,
) -> rusqlite::Result<bool> {
    let json = serde_json::to_string(r).unwrap_or_default();
    let verdict = serde_json::to_value(r.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let tx = conn.transaction()?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO verifications (partner, bundle_sha256, verified_at, verdict, target, api_version, result)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![r.partner, r.bundle_sha256, r.verified_at, verdict, r.target, r.api_version, json],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// The last verification each partner sent, newest first.
pub(super) fn verifications(
    conn: &Connection,
) -> rusqlite::Result<Vec<crate::report::verification::VerificationResult>> {
    let mut stmt = conn.prepare(
        "SELECT result FROM verifications v WHERE verified_at = (
             SELECT MAX(verified_at) FROM verifications w WHERE w.partner = v.partner)
         ORDER BY verified_at DESC",
    )?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for text in rows {
        if let Ok(r) = serde_json::from_str(&text?) {
            out.push(r);
        }
    }
    Ok(out)
}

pub(super) fn prepare(conn: &mut Connection) -> Result<(), String> {
    let sql = |e: rusqlite::Error| e.to_string();
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(sql)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(format!(
            "its schema is version {version}, made by a newer contrail (this one knows up to {known}); use that contrail, or another file"
        ));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(step).map_err(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}

pub(super) fn append(conn: &mut Connection, r: &Report, checked: &BTreeSet<String>) -> rusqlite::Result<i64> {
    let tx = conn.transaction()?;
    let point = super::point(r);
    let contracts = serde_json::to_string(&r.contracts).unwrap_or_default();
    tx.execute(
        "INSERT INTO runs (started_at, command, target, verdict, exit_code, duration_ms, contrail_version, git_commit,
            contracts, partner_filter, scenarios, failed, breaking, compatible, unreachable)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            r.meta.started_at,
            r.command,
            r.meta.target,
            serde_json::to_value(r.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            r.exit_code,
            r.meta.duration_ms as i64,
            r.meta.contrail_version,
            r.meta.git_commit,
            contracts,
            r.meta.partner,
            r.scenarios.len() as i64,
            point.failed as i64,
            point.breaking as i64,
            point.compatible as i64,
            point.unreachable as i64,
        ],
    )?;
    let run = tx.last_insert_rowid();
    {
        let mut partner = tx.prepare(
            "INSERT INTO partner_results (run_id, partner, health, checked, reachable) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in &r.partners {
            partner.execute(params![
                run,
                p.name,
                p.health.label(),
                checked.contains(&p.name),
                p.unreachable.is_none()
            ])?;
        }
        let mut finding = tx.prepare(
            "INSERT OR IGNORE INTO findings (run_id, fingerprint, partner, finding) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for f in &r.findings {
            // Stored without its diff (the recording holds the old side) nor its state.
            let mut stored = f.clone();
            stored.diff = None;
            stored.seen = None;
            let json = serde_json::to_string(&stored).unwrap_or_default();
            finding.execute(params![run, f.fingerprint, f.partner, json])?;
        }
        let mut scenario = tx.prepare(
            "INSERT OR REPLACE INTO scenario_results (run_id, scenario_id, uri, status, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for s in &r.scenarios {
            scenario.execute(params![run, s.id, s.uri, s.status, s.duration_ms as i64])?;
        }
    }
    tx.commit()?;
    Ok(run)
}

/// Earlier runs of this command against this target, newest first: (id, started_at).
pub(super) fn comparable_runs(
    conn: &Connection,
    command: &str,
    target: &str,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut st = conn.prepare(
        "SELECT id, started_at FROM runs WHERE command = ?1 AND target = ?2 ORDER BY started_at DESC, id DESC LIMIT ?3",
    )?;
    st.query_map(params![command, target, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Of those runs, the ones that checked the partner, newest first, with its findings then.
pub(super) fn partner_runs(
    conn: &Connection,
    runs: &[(i64, String)],
    partner: &str,
) -> rusqlite::Result<Vec<PartnerRun>> {
    let mut state =
        conn.prepare("SELECT reachable FROM partner_results WHERE run_id = ?1 AND partner = ?2 AND checked = 1")?;
    let mut found = conn.prepare("SELECT fingerprint, finding FROM findings WHERE run_id = ?1 AND partner = ?2")?;
    let mut out = Vec::new();
    for (id, started_at) in runs {
        let Some(reachable) = state
            .query_row(params![id, partner], |r| r.get::<_, bool>(0))
            .optional()?
        else {
            continue;
        };
        let mut findings = BTreeMap::new();
        let rows = found.query_map(params![id, partner], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (print, json) = row?;
            // A row this contrail cannot read is skipped rather than trusted.
            if let Ok(f) = serde_json::from_str::<Finding>(&json) {
                findings.insert(print, f);
            }
        }
        out.push(PartnerRun {
            started_at: started_at.clone(),
            reachable,
            findings,
        });
    }
    Ok(out)
}

/// Each scenario's statuses in those of these runs where no partner broke or was down (a
/// failure a partner explains says nothing about the scenario being flaky).
pub(super) fn scenario_statuses(conn: &Connection, runs: &[i64]) -> rusqlite::Result<HashMap<String, Vec<String>>> {
    let mut st = conn.prepare(
        "SELECT s.scenario_id, s.status FROM scenario_results s JOIN runs r ON r.id = s.run_id
         WHERE s.run_id = ?1 AND r.verdict IN ('passed', 'compatible', 'failed')",
    )?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for id in runs {
        for row in st.query_map(params![id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (s, status) = row?;
            out.entry(s).or_default().push(status);
        }
    }
    Ok(out)
}

/// The newest `n` of the runs as trend points, newest first.
pub(super) fn trend(conn: &Connection, runs: &[(i64, String)], n: usize) -> rusqlite::Result<Vec<TrendPoint>> {
    let mut st =
        conn.prepare("SELECT started_at, verdict, breaking, compatible, failed, unreachable FROM runs WHERE id = ?1")?;
    let mut out = Vec::new();
    for (id, _) in runs.iter().take(n) {
        out.push(st.query_row(params![id], |r| {
            Ok(TrendPoint {
                started_at: r.get(0)?,
                verdict: verdict_of(&r.get::<_, String>(1)?),
                breaking: r.get::<_, i64>(2)? as usize,
                compatible: r.get::<_, i64>(3)? as usize,
                failed: r.get::<_, i64>(4)? as usize,
                unreachable: r.get::<_, i64>(5)? as usize,
            })
        })?);
    }
    Ok(out)
}

pub(super) fn runs(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<RunRow>> {
    let mut st = conn.prepare(
        "SELECT id, started_at, command, target, verdict, exit_code, duration_ms, contrail_version, git_commit,
                scenarios, failed, breaking, compatible, unreachable
         FROM runs ORDER BY started_at DESC, id DESC LIMIT ?1",
    )?;
    st.query_map(params![limit as i64], |r| {
        Ok(RunRow {
            id: r.get(0)?,
            started_at: r.get(1)?,
            command: r.get(2)?,
            target: r.get(3)?,
            verdict: r.get(4)?,
            exit_code: r.get::<_, i64>(5)? as u8,
            duration_ms: r.get::<_, i64>(6)? as u64,
            contrail_version: r.get(7)?,
            git_commit: r.get(8)?,
            scenarios: r.get::<_, i64>(9)? as usize,
            failed: r.get::<_, i64>(10)? as usize,
            breaking: r.get::<_, i64>(11)? as usize,
            compatible: r.get::<_, i64>(12)? as usize,
            unreachable: r.get::<_, i64>(13)? as usize,
        })
    })?
    .collect()
}

pub(super) fn prune(conn: &mut Connection, cutoff: &str) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let n = tx.execute("DELETE FROM runs WHERE started_at < ?1", params![cutoff])?;
    tx.commit()?;
    if n > 0 {
        conn.execute_batch("VACUUM")?;
    }
    Ok(n)
}

pub(super) fn durations(conn: &Connection) -> rusqlite::Result<HashMap<String, u64>> {
    // The newest run of each scenario wins (rows are read oldest first).
    let mut st = conn.prepare(
        "SELECT s.scenario_id, s.duration_ms FROM scenario_results s JOIN runs r ON r.id = s.run_id
         ORDER BY r.started_at, r.id",
    )?;
    let mut out = HashMap::new();
    for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (id, ms) = row?;
        out.insert(id, ms.max(0) as u64);
    }
    Ok(out)
}
