//! `contrail bundle`: a partner's bundle holds what that partner must honour and nothing
//! else (no other partner's contract section, document, scenario or recording; no credential
//! value), reads back checked against its hashes, makes a workspace `lint` accepts, and is
//! refused when something in it looks like a secret.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{contrail, copy_dir, repo, workspace_copy};

fn bundled_workspace() -> tempfile::TempDir {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    ws
}

/// The files of a bundle, unpacked with the system's tar (an independent reader).
fn unpack(bundle: &Path) -> (tempfile::TempDir, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("tar")
        .arg("xzf")
        .arg(bundle)
        .current_dir(dir.path())
        .output()
        .expect("tar");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut files = BTreeSet::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(p.strip_prefix(dir.path()).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    (dir, files)
}

#[test]
fn a_bundle_holds_only_what_its_partner_must_honour() {
    let ws = bundled_workspace();
    let out_file = ws.path().join("ticketing.contrail");
    let out = contrail(
        ws.path(),
        &["bundle", "--partner", "ticketing", "--consumer", "acme-support"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("11 scenario(s)"), "{}", out.stdout);

    let (dir, files) = unpack(&out_file);
    let recorded: BTreeSet<String> = std::fs::read_dir(repo().join("recordings/ticketing"))
        .unwrap()
        .map(|e| format!("recordings/ticketing/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let mut expected: BTreeSet<String> = [
        "contrail.bundle.json",
        "contrail.toml",
        "contracts/support-escalation.yaml",
        "contracts/openapi/ticketing.yaml",
        "features/escalation.feature",
        "features/rate-limits.feature",
        "features/scopes.feature",
        "features/tickets.feature",
        "steps/support.yaml",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    expected.extend(recorded);
    assert_eq!(files, expected);

    // Nothing of the other partner, and no credential value of the consumer's.
    for file in &files {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        for never in [
            "qa-secret",
            "contrail-qa",
            "whsec_demo",
            "incidents.yaml",
            "INCIDENTS_",
            "listIncidents",
        ] {
            assert!(!text.contains(never), "{file} holds {never:?}");
        }
    }
    let contract = std::fs::read_to_string(dir.path().join("contracts/support-escalation.yaml")).unwrap();
    assert!(
        contract.contains("client_secret: ${env:TICKETING_CLIENT_SECRET}"),
        "{contract}"
    );
    assert!(!contract.contains("\n  incidents:"), "{contract}");
    // Only the scenarios that reach ticketing alone; the cut files keep their Background.
    let escalation = std::fs::read_to_string(dir.path().join("features/escalation.feature")).unwrap();
    assert!(escalation.contains("Scenario: A ticket cannot be escalated twice"));
    assert!(!escalation.contains("Scenario Outline"), "{escalation}");
    assert!(!escalation.contains("incident carries"), "{escalation}");
    assert!(escalation.contains("Background:"));
    let steps = std::fs::read_to_string(dir.path().join("steps/support.yaml")).unwrap();
    assert!(steps.contains("a ticket with priority {priority} exists"));
    assert!(!steps.contains("the incident for the ticket is fetched"), "{steps}");

    // The unpacked bundle is a workspace contrail accepts as it is.
    let lint = contrail(dir.path(), &["lint"]);
    assert_eq!(lint.code, 0, "{}", lint.all());
    assert!(lint.stdout.contains("11 scenario(s)"), "{}", lint.stdout);

    // --list needs no workspace (a partner has none) and checks every hash.
    let elsewhere = tempfile::tempdir().unwrap();
    let list = contrail(elsewhere.path(), &["bundle", "--list", out_file.to_str().unwrap()]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert!(
        list.stdout.contains("bundle for partner \"ticketing\""),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("made by acme-support"), "{}", list.stdout);
    assert!(
        list.stdout
            .contains("credentials from: TICKETING_CLIENT_ID, TICKETING_CLIENT_SECRET")
    );
    assert!(list.stdout.contains("files (") && list.stdout.contains("contracts/openapi/ticketing.yaml"));

    // The same workspace bundles to the same files (only the manifest's time may differ).
    let again = ws.path().join("again.contrail");
    let out = contrail(
        ws.path(),
        &["bundle", "-p", "ticketing", "--out", again.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let (dir2, files2) = unpack(&again);
    assert_eq!(files2, files);
    for f in files.iter().filter(|f| *f != "contrail.bundle.json") {
        assert_eq!(
            std::fs::read(dir.path().join(f)).unwrap(),
            std::fs::read(dir2.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_recording_or_a_feature_with_a_secret_in_it_stops_the_bundle() {
    let ws = bundled_workspace();
    let file = std::fs::read_dir(ws.path().join("recordings/ticketing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("getTicket"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let planted = text.replacen(
        "\"title\"",
        "\"api_key\": \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\", \"title\"",
        1,
    );
    assert_ne!(planted, text);
    std::fs::write(&file, planted).unwrap();
    let out = contrail(ws.path(), &["bundle", "--partner", "ticketing"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("looks like a secret"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&*file.file_name().unwrap().to_string_lossy()),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        "the value is never printed"
    );
    assert!(!ws.path().join("ticketing.contrail").exists(), "no bundle was written");
    std::fs::write(&file, text).unwrap();

    // A token pasted into a feature's doc string.
    let feature = ws.path().join("features/tickets.feature");
    let text = std::fs::read_to_string(&feature).unwrap();
    std::fs::write(
        &feature,
        text.replacen(
            "\"customer_id\": \"C-1\" }",
            "\"customer_id\": \"C-1\", \"note\": \"Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a\" }",
            1,
        ),
    )
    .unwrap();
    let out = contrail(ws.path(), &["bundle", "--partner", "ticketing"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("tickets.feature"), "{}", out.stderr);
    assert!(!ws.path().join("ticketing.contrail").exists());
}

#[test]
fn an_unknown_partner_and_a_damaged_bundle_are_refused_plainly() {
    let ws = bundled_workspace();
    let out = contrail(ws.path(), &["bundle", "--partner", "billing"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no contract has a partner \"billing\""),
        "{}",
        out.stderr
    );

    let out = contrail(ws.path(), &["bundle", "--partner", "incidents"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let path = ws.path().join("incidents.contrail");
    let mut bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    std::fs::write(&path, &bytes).unwrap();
    let out = contrail(ws.path(), &["bundle", "--list", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("incidents.contrail"), "{}", out.stderr);
    std::fs::write(&path, b"hello").unwrap();
    let out = contrail(ws.path(), &["bundle", "--list", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.all());
}
