//! Real sandboxes over TLS: a local HTTPS partner with its own CA (contrail's mock, serving
//! TLS and playing the partner) is refused as an unknown issuer until the CA is configured; one
//! that requires a client certificate refuses contrail without one and lets it in with one; a
//! certificate for another name is a name mismatch. Each failure names the partner's host and
//! what went wrong, never "is the sandbox running?".

mod common;
use common::*;

fn tls_file(name: &str) -> String {
    repo().join("tests/tls").join(name).display().to_string()
}

/// A workspace with the bundled contracts, a one-call feature for ticketing, and
/// `contrail.toml` holding `tls_toml` under `[partners.ticketing.tls]`.
fn workspace(tls_toml: &str) -> tempfile::TempDir {
    let ws = workspace_copy();
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    std::fs::write(
        ws.path().join("features/tls.feature"),
        "Feature: tls\n  Scenario: a call over HTTPS\n    Given the contract \"support-escalation\"\n    When I call \"listTickets\"\n    Then the response status is 200\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("contrail.toml"),
        format!("[partners.ticketing.tls]\n{tls_toml}"),
    )
    .unwrap();
    ws
}

/// The bundled partner played by `contrail mock --simulate` over HTTPS.
fn https_partner(cert: &str, key: &str, client_ca: Option<&str>) -> Mock {
    let cert = tls_file(cert);
    let key = tls_file(key);
    let ca = client_ca.map(tls_file);
    let mut args = vec!["--simulate", "--tls-cert", &cert, "--tls-key", &key];
    if let Some(ca) = &ca {
        args.extend(["--tls-client-ca", ca]);
    }
    let m = start_mock(&repo(), "ticketing", &args, &[], None);
    assert!(m.url.starts_with("https://127.0.0.1:"), "{}", m.url);
    m
}

fn run(ws: &tempfile::TempDir, partner: &Mock) -> Output {
    let base = format!("ticketing={}", partner.url);
    contrail(
        ws.path(),
        &["run", "--target", "live", "--color", "never", "--base-url", &base],
    )
}

#[test]
fn a_partner_with_its_own_ca_is_an_unknown_issuer_until_the_ca_is_given() {
    let partner = https_partner("server.pem", "server.key", None);
    let host = partner.url.trim_start_matches("https://").to_string();

    let out = run(&workspace(&format!("ca = {:?}\n", tls_file("other-ca.pem"))), &partner);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "TLS with \"ticketing\" ({host}) failed: its certificate is signed by an issuer this run does not trust: give its CA bundle as [partners.ticketing.tls] ca"
        )),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Is the partner's sandbox running"),
        "{}",
        out.stdout
    );

    let out = run(
        &workspace(&format!("ca = {:?}\nmin_version = \"1.3\"\n", tls_file("ca.pem"))),
        &partner,
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_partner_that_wants_a_client_certificate_refuses_without_and_accepts_with() {
    let partner = https_partner("server.pem", "server.key", Some("ca.pem"));
    let ca = format!("ca = {:?}\n", tls_file("ca.pem"));

    let out = run(&workspace(&ca), &partner);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains(
            "it refused the client certificate, or wants one: give [partners.ticketing.tls] client_cert and client_key"
        ),
        "{}",
        out.stdout
    );

    // The key comes from the environment, as the onboarding checklist asks.
    let ws = workspace(&format!(
        "{ca}client_cert = {:?}\nclient_key = \"${{env:CONTRAIL_TEST_CLIENT_KEY}}\"\n",
        tls_file("client.pem")
    ));
    let key = std::fs::read_to_string(tls_file("client.key")).unwrap();
    let base = format!("ticketing={}", partner.url);
    let out = contrail_env(
        ws.path(),
        &["run", "--target", "live", "--color", "never", "--base-url", &base],
        &[("CONTRAIL_TEST_CLIENT_KEY", &key)],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_certificate_for_another_name_is_a_name_mismatch() {
    let partner = https_partner("wrong-name.pem", "wrong-name.key", None);
    let out = run(&workspace(&format!("ca = {:?}\n", tls_file("ca.pem"))), &partner);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains("not valid for this host name (name mismatch)"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_tls_settings_are_bad_input() {
    let ws = workspace("ca = \"no/such/ca.pem\"\n");
    let out = contrail(
        ws.path(),
        &["run", "--target", "live", "--base-url", "ticketing=https://127.0.0.1:9"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("[partners.ticketing.tls] ca"), "{}", out.stderr);
    let ws = workspace(&format!("client_cert = {:?}\n", tls_file("client.pem")));
    let out = contrail(
        ws.path(),
        &["run", "--target", "live", "--base-url", "ticketing=https://127.0.0.1:9"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("give both client_cert and client_key"),
        "{}",
        out.stderr
    );
}

#[test]
fn replay_never_goes_through_a_proxy() {
    // A proxy that does not exist: replay must not even try it.
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let out = contrail_env(
        ws.path(),
        &["run", "--color", "never", "features/tickets.feature"],
        &[
            ("HTTP_PROXY", "http://127.0.0.1:9"),
            ("HTTPS_PROXY", "http://127.0.0.1:9"),
            ("http_proxy", "http://127.0.0.1:9"),
            ("ALL_PROXY", "http://127.0.0.1:9"),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}

/// A proxy that answers everything 418 and keeps the request lines it saw.
fn fake_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            keep.lock().unwrap().push(line.trim().to_string());
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 418 I'm a teapot\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, seen)
}

#[test]
fn live_targets_honour_http_proxy_and_no_proxy() {
    let (proxy, seen) = fake_proxy();
    let ws = workspace("");
    std::fs::write(ws.path().join("contrail.toml"), "").unwrap();
    let args = [
        "run",
        "--target",
        "live",
        "--color",
        "never",
        "--base-url",
        "ticketing=http://127.0.0.1:9",
    ];
    let out = contrail_env(ws.path(), &args, &[("HTTP_PROXY", &proxy), ("http_proxy", &proxy)]);
    assert_eq!(out.code, 1, "the proxy answered, 418: {}", out.all());
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("POST http://127.0.0.1:9/oauth/token")),
        "{:?}",
        seen.lock().unwrap()
    );
    // NO_PROXY: straight to the (closed) port.
    let before = seen.lock().unwrap().len();
    let out = contrail_env(
        ws.path(),
        &args,
        &[
            ("HTTP_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("NO_PROXY", "127.0.0.1"),
            ("no_proxy", "127.0.0.1"),
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert_eq!(seen.lock().unwrap().len(), before);
}
