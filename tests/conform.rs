//! `contrail conform`: generated conformance finds each bug planted in the demo partner
//! (`--fault NAME`), shrunk to a minimal request, prints a scenario that fails against the
//! faulty partner and passes against the healthy one, and finds nothing on the healthy demo
//! partner over 10 seeds. The contract's rate limit is raised to 100/s in the copy so the test
//! is quick; conform keeps to whatever the contract says.

mod common;

use common::{Output, contrail, contrail_env, start_partner, workspace_copy};
use serde_json::Value;

fn workspace() -> tempfile::TempDir {
    let ws = workspace_copy();
    let file = ws.path().join("contracts/support-escalation.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let faster = text.replacen(
        "rate_limit:\n      requests: 5\n",
        "rate_limit:\n      requests: 100\n",
        1,
    );
    assert_ne!(faster, text);
    std::fs::write(&file, faster).unwrap();
    ws
}

fn conform(dir: &std::path::Path, url: &str, seed: u64, ops: &[&str]) -> Output {
    let seed = seed.to_string();
    let mut args = vec![
        "conform",
        "-p",
        "ticketing",
        "--base-url",
        url,
        "--max-examples",
        "10",
        "--seed",
        &seed,
    ];
    for op in ops {
        args.extend(["--operation", op]);
    }
    contrail(dir, &args)
}

/// The body of the first finding's scenario (its doc string).
fn smallest_body(out: &Output) -> Value {
    let start = out.stdout.find("\"\"\"json\n").expect("a doc string") + 8;
    let rest = &out.stdout[start..];
    let end = rest.find("\"\"\"").expect("its end");
    serde_json::from_str(rest[..end].trim()).expect("JSON")
}

/// The first scenario conform printed, pasted into a feature: it fails against `faulty` and
/// passes against a healthy partner (a printed scenario is a real one).
fn printed_scenario_fails_there_and_passes_on_a_healthy_partner(
    ws: &std::path::Path,
    out: &Output,
    faulty: &str,
    name: &str,
) {
    let scenario = out.stdout[out.stdout.find("  Scenario:").expect("a scenario")..].to_string();
    std::fs::write(
        ws.join("features/found.feature"),
        format!("Feature: Found by conform\n\n{scenario}"),
    )
    .unwrap();
    let env = [("TICKETING_CLIENT_ID", "contrail-qa")];
    let live = |url: &str| {
        let base = format!("ticketing={url}");
        contrail_env(
            ws,
            &["run", "--target", "live", "--base-url", &base, "--name", name],
            &env,
        )
    };
    let there = live(faulty);
    assert_eq!(there.code, 1, "{}", there.all());
    let healthy = start_partner(&[]);
    let run = live(&healthy.url);
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn the_healthy_demo_partner_conforms_whatever_the_seed() {
    let ws = workspace();
    let partner = start_partner(&[]);
    for seed in 1..=10 {
        let out = conform(ws.path(), &partner.url, seed, &[]);
        assert_eq!(out.code, 0, "seed {seed}: {}", out.all());
        assert!(out.stderr.contains("0 finding(s)"), "{}", out.stderr);
    }
}

#[test]
fn each_planted_fault_is_found_and_shrunk_to_a_minimal_request() {
    let ws = workspace();

    let partner = start_partner(&["--fault", "server-error"]);
    let out = conform(ws.path(), &partner.url, 11, &["createTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("SERVER ERROR createTicket"), "{}", out.stdout);
    let body = smallest_body(&out);
    assert_eq!(body["priority"], "low", "{body}");
    assert_eq!(body["title"].as_str().map(|t| t.chars().count()), Some(1), "{body}");
    assert!(out.stdout.contains("curl -sS -X POST '"), "{}", out.stdout);
    assert!(out.stdout.contains("Bearer $TOKEN") && !out.stdout.contains("qa-secret"));
    // The same seed, the same findings.
    let again = conform(ws.path(), &partner.url, 11, &["createTicket"]);
    assert_eq!(again.stdout, out.stdout);

    // The scenario it prints fails against this partner and passes against a healthy one.
    printed_scenario_fails_there_and_passes_on_a_healthy_partner(
        ws.path(),
        &out,
        &partner.url,
        "found by contrail conform",
    );
    drop(partner);

    let partner = start_partner(&["--fault", "undeclared-status"]);
    let out = conform(ws.path(), &partner.url, 11, &["listTickets"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("UNDECLARED STATUS listTickets: status 204"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("/tickets?status=closed'"), "{}", out.stdout);
    drop(partner);

    let partner = start_partner(&["--fault", "wrong-type"]);
    let out = conform(ws.path(), &partner.url, 11, &["createTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("BREAKS THE CONTRACT createTicket: /priority"),
        "{}",
        out.stdout
    );
    let body = smallest_body(&out);
    assert_eq!(body["priority"], "med", "{body}");
    assert_eq!(body["title"].as_str().map(|t| t.chars().count()), Some(1), "{body}");
    drop(partner);

    let partner = start_partner(&["--fault", "no-scope"]);
    let out = conform(ws.path(), &partner.url, 11, &["createTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("SCOPE NOT ENFORCED createTicket"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("And I authenticate with the scopes \"tickets:read\""),
        "{}",
        out.stdout
    );
    let body = smallest_body(&out);
    assert_eq!(body["title"].as_str().map(|t| t.chars().count()), Some(1), "{body}");
    drop(partner);

    let partner = start_partner(&["--fault", "accept-invalid"]);
    let out = conform(ws.path(), &partner.url, 11, &["createTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("ACCEPTED INVALID createTicket: a request with the required body field \"title\" left out"),
        "{}",
        out.stdout
    );
    let body = smallest_body(&out);
    assert!(body.get("title").is_none(), "{body}");
    assert!(
        out.stdout.contains("with a body that breaks the contract:"),
        "{}",
        out.stdout
    );
}

#[test]
fn conform_keeps_to_the_contracts_rate_limit() {
    // The bundled contract's 5 requests per second: never more in any second.
    let ws = workspace_copy();
    let partner = start_partner(&[]);
    let out = contrail(
        ws.path(),
        &[
            "conform",
            "-p",
            "ticketing",
            "--base-url",
            &partner.url,
            "--max-examples",
            "6",
            "--seed",
            "3",
            "--operation",
            "listTickets",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let busiest: usize = out
        .stderr
        .split(" in any second")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the busiest second");
    assert!(
        (1..=5).contains(&busiest),
        "{busiest} requests in one second: {}",
        out.stderr
    );
    assert!(out.stderr.contains("(the contract allows 5 per 1s)"), "{}", out.stderr);
}

#[test]
fn links_lead_to_an_existing_resource_where_made_up_ids_cannot() {
    let ws = workspace();
    let partner = start_partner(&["--fault", "read-broken"]);
    let out = conform(ws.path(), &partner.url, 5, &["createTicket", "getTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("BREAKS THE CONTRACT getTicket: following the link ReadTheTicket from createTicket"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("And I remember the response field \"id\" as \"linked_id\"\n    And the path parameter \"id\" is \"${linked_id}\"\n    When I call \"getTicket\""),
        "{}",
        out.stdout
    );
    // The scenario it prints is a real one: it fails here and passes against a healthy partner.
    printed_scenario_fails_there_and_passes_on_a_healthy_partner(ws.path(), &out, &partner.url, "after createTicket");

    // Without the links, made-up ids only ever get a declared 404: nothing is found.
    let spec = ws.path().join("contracts/openapi/ticketing.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let start = text.find("          links:\n").expect("links");
    let end = text[start..].find("        '400':").expect("the next response") + start;
    std::fs::write(&spec, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let out = conform(ws.path(), &partner.url, 5, &["createTicket", "getTicket"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_chain_of_links_is_followed_and_printed_as_one_scenario() {
    // createTicket links to getTicket, which links to escalateTicket: only the second hop can
    // reach this partner's bug.
    let ws = workspace();
    let partner = start_partner(&["--fault", "escalate-broken"]);
    let out = conform(ws.path(), &partner.url, 5, &["createTicket"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "BREAKS THE CONTRACT escalateTicket: following the link EscalateIt from createTicket -> getTicket"
        ),
        "{}",
        out.stdout
    );
    // The id travels as a variable through both hops.
    assert_eq!(
        out.stdout
            .matches("And the path parameter \"id\" is \"${linked_id}\"")
            .count(),
        2,
        "{}",
        out.stdout
    );
    printed_scenario_fails_there_and_passes_on_a_healthy_partner(
        ws.path(),
        &out,
        &partner.url,
        "after createTicket, getTicket",
    );
}
