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

/// The bundled workspace with the @sut feature, its recordings, mocks serving HTTPS from a
/// generated certificate, and the demo integration as the system under test; `sut_env` is
/// `[sut] env`.
fn https_sut_workspace(sut_env: &str) -> tempfile::TempDir {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::copy(
        repo().join("features/escalation-service.feature"),
        ws.path().join("features/escalation-service.feature"),
    )
    .unwrap();
    let toml = demo_sut_toml(&[], &format!("env = {{ {sut_env} }}\n"), "[mock]\nhttps = true\n\n");
    std::fs::write(ws.path().join("contrail.toml"), toml).unwrap();
    ws
}

const ESCALATION: &str = "An escalated ticket opens one incident with the ticket's link and mapped severity";

#[test]
fn mocks_serve_https_from_a_generated_certificate_to_contrail_and_a_sut_that_trusts_its_ca() {
    let ws = https_sut_workspace("");
    let args = [
        "run",
        "--color",
        "never",
        "features/escalation-service.feature",
        "features/tickets.feature",
        "--name",
        ESCALATION,
    ];
    let out = contrail(ws.path(), &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("(mock on https://127.0.0.1:"), "{}", out.stderr);
    assert!(out.stdout.contains("1 scenario (1 passed)"), "{}", out.stdout);
    // Nothing but the (public) CA certificate was written, and it is gone after the run.
    let leftover: Vec<_> = walk(ws.path())
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("PRIVATE KEY")))
        .collect();
    assert!(leftover.is_empty(), "{leftover:?}");

    // The planted fault: a system under test that does not trust the mocks' CA cannot reach
    // the incidents API, and the very same scenario fails.
    let ws = https_sut_workspace("CONTRAIL_MOCK_CA = \"\"");
    let out = contrail(ws.path(), &args);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("1 scenario (1 failed)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("the \"incidents\" mock refused")
            && out.stdout.contains("the client does not trust the mock's certificate"),
        "{}",
        out.stdout
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn contrail_mock_generates_a_certificate_for_loopback_and_writes_only_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("mock-ca.pem");
    let ca_arg = ca.display().to_string();
    let partner = start_mock(
        &repo(),
        "ticketing",
        &["--simulate", "--tls-generate", "--tls-ca-out", &ca_arg],
        &[],
        None,
    );
    assert!(partner.url.starts_with("https://127.0.0.1:"), "{}", partner.url);
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"), "{pem}");

    // Trusted through its CA, the generated certificate is valid for 127.0.0.1 ...
    let out = run(&workspace(&format!("ca = {ca_arg:?}\n")), &partner);
    assert_eq!(out.code, 0, "{}", out.all());
    // ... and without it, an unknown issuer.
    let out = run(&workspace(&format!("ca = {:?}\n", tls_file("ca.pem"))), &partner);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains("signed by an issuer this run does not trust"),
        "{}",
        out.stdout
    );
}

#[test]
fn mock_ca_placeholder_needs_https_mocks() {
    let ws = https_sut_workspace("");
    let toml = std::fs::read_to_string(ws.path().join("contrail.toml")).unwrap();
    let with_placeholder = toml.replace("env = {  }", "env = { INCIDENTS_CA = \"{mock.ca}\" }");
    assert_ne!(toml, with_placeholder);
    std::fs::write(ws.path().join("contrail.toml"), &with_placeholder).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());

    std::fs::write(
        ws.path().join("contrail.toml"),
        with_placeholder.replace("https = true", "https = false"),
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains("{mock.ca} is the CA file of the mocks' HTTPS certificate"),
        "{}",
        out.all()
    );
}

/// A TLS handshake is work under way, not idleness: a client that takes most of the idle
/// timeout to finish it still has the whole timeout for its first request.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_tls_handshake_does_not_use_up_the_idle_timeout() {
    use rustls::pki_types::pem::PemObject as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let ws = workspace_copy();
    std::fs::write(ws.path().join("contrail.toml"), "[mock]\nidle_timeout = \"2s\"\n").unwrap();
    let ca = ws.path().join("mock-ca.pem");
    let ca_arg = ca.display().to_string();
    let mock = start_mock(
        ws.path(),
        "ticketing",
        &["--simulate", "--tls-generate", "--tls-ca-out", &ca_arg],
        &[],
        None,
    );
    let addr = mock
        .url
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(&ca).expect("the CA file") {
        roots.add(cert.expect("a certificate")).expect("a root");
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));

    let tcp = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    // Most of the idle timeout before the handshake, then more than what is left of it
    // before the request: counted from the accept, the connection would be closed by then.
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("a name");
    let mut tls = connector.connect(name, tcp).await.expect("the handshake");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    tls.write_all(b"GET /__contrail/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("the request is written");
    let mut answer = Vec::new();
    // A TLS close without close_notify is an error after the bytes: what was read counts.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the first request after a slow handshake was not answered: {answer:?}"
    );
}
