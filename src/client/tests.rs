//! A refusal that hyper lost, found again: a server that wants a client certificate
//! (tests/tls/), and requests whose error names no TLS failure, as hyper reports them when
//! the server's alert wins the race with the request ("connection was not ready").

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::tls::{self, PartnerTls};
use super::{HttpClient, TransportError};
use crate::workspace::TlsConfig;

/// hyper's words when the connection died before the request could be sent.
const LOST: &str = "error sending request: client error (SendRequest): connection was not ready";
const REFUSED: &str = "it refused the client certificate";

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
        .display()
        .to_string()
}

/// An HTTPS server on 127.0.0.1 with tests/tls/server.pem; with `client_ca`, it wants a client
/// certificate that CA signed. It closes each connection once the handshake is done. Stopped
/// when the returned task is aborted (the test's runtime ending does it too).
async fn server(client_ca: bool) -> (url::Url, tokio::task::JoinHandle<()>) {
    let ca = fixture("ca.pem");
    let acceptor = crate::server::tls::acceptor(
        fixture("server.pem").as_ref(),
        fixture("server.key").as_ref(),
        client_ca.then_some(ca.as_ref()),
    )
    .expect("the test certificates load");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = url::Url::parse(&format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().expect("addr").port()
    ))
    .expect("url");
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (url, task)
}

fn settings(client_certificate: bool) -> PartnerTls {
    let cfg = TlsConfig {
        ca: Some(fixture("ca.pem")),
        client_cert: client_certificate.then(|| fixture("client.pem")),
        client_key: client_certificate.then(|| fixture("client.key")),
        min_version: None,
    };
    PartnerTls::load("ticketing", &cfg, std::path::Path::new("/")).expect("the test settings load")
}

fn client(url: &url::Url, tls: &PartnerTls) -> HttpClient {
    let mut c = HttpClient::new(Duration::from_secs(10), super::DEFAULT_MAX_BODY, true).expect("client");
    c.name_partner(url, "ticketing");
    c.with_mock_tls(url, tls).expect("client with TLS");
    c
}

#[tokio::test]
async fn a_second_handshake_finds_the_refusal_of_a_missing_client_certificate() {
    let (url, task) = server(true).await;
    let refusal = settings(false).refusal(&url, Duration::from_secs(10)).await;
    let refusal = refusal.expect("the server refuses a client without a certificate");
    assert!(
        tls::explain(&refusal).is_some_and(|w| w.starts_with(REFUSED)),
        "{refusal}"
    );
    // The same server lets a client with its certificate in: no refusal to find.
    assert_eq!(settings(true).refusal(&url, Duration::from_secs(10)).await, None);
    task.abort();
}

#[tokio::test]
async fn a_request_that_lost_the_refusal_is_told_why_tls_failed() {
    let (url, task) = server(true).await;
    let c = client(&url, &settings(false));
    match c.explained(url.as_str(), LOST.into(), false, false).await {
        TransportError::Tls { host, what, reason } => {
            assert_eq!(host, format!("\"ticketing\" (127.0.0.1:{})", url.port().unwrap_or(0)));
            assert!(what.starts_with(REFUSED), "{what}");
            assert!(what.contains("[partners.ticketing.tls] client_cert"), "{what}");
            assert!(
                reason.starts_with(&format!("{LOST}; a handshake made again to see why: ")),
                "{reason}"
            );
        }
        other => panic!("not a TLS failure: {other}"),
    }
    // A request that timed out got through its handshake (or would hang again): no second one.
    match c.explained(url.as_str(), LOST.into(), true, false).await {
        TransportError::Timeout { .. } => {}
        other => panic!("not the request's own timeout: {other}"),
    }
    task.abort();
}

#[tokio::test]
async fn a_request_that_failed_for_another_reason_keeps_its_own_words() {
    // The server lets this client in: nothing in TLS explains the failure.
    let (url, task) = server(true).await;
    let c = client(&url, &settings(true));
    match c.explained(url.as_str(), LOST.into(), false, false).await {
        TransportError::Other { reason, .. } => assert_eq!(reason, LOST),
        other => panic!("not the request's own error: {other}"),
    }
    // Nor for a server that wants no certificate at all.
    let (plain, plain_task) = server(false).await;
    let c = client(&plain, &settings(false));
    match c.explained(plain.as_str(), LOST.into(), false, true).await {
        TransportError::Connect { reason, .. } => assert_eq!(reason, LOST),
        other => panic!("not the request's own error: {other}"),
    }
    task.abort();
    plain_task.abort();
}

#[tokio::test]
async fn no_second_handshake_past_a_proxy_or_over_plain_http() {
    let (url, task) = server(true).await;
    let tls = settings(false);
    let within = Duration::from_secs(10);
    let (what, reason) = super::tls_failure(url.as_str(), LOST.into(), Some(&tls), false, within).await;
    assert_eq!((what, reason.as_str()), (None, LOST), "through a proxy");
    let http = url.as_str().replacen("https:", "http:", 1);
    let (what, reason) = super::tls_failure(&http, LOST.into(), Some(&tls), true, within).await;
    assert_eq!((what, reason.as_str()), (None, LOST), "plain HTTP");
    // The same call, direct and over HTTPS, does find it.
    let (what, _) = super::tls_failure(url.as_str(), LOST.into(), Some(&tls), true, within).await;
    assert!(what.is_some_and(|w| w.starts_with(REFUSED)), "{what:?}");
    task.abort();
}

#[test]
fn settings_that_cannot_make_a_client_say_which_setting() {
    let file = |name: &str| Some(fixture(name));
    let cases = [
        (
            "a CA that is PEM but no certificate",
            TlsConfig {
                ca: Some("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into()),
                ..Default::default()
            },
            "[partners.ticketing.tls] ca: the CA certificates cannot be used",
        ),
        (
            "a key given as the CA",
            TlsConfig {
                ca: file("client.key"),
                ..Default::default()
            },
            "[partners.ticketing.tls] ca: holds no certificate",
        ),
        (
            "a key that is not the certificate's",
            TlsConfig {
                client_cert: file("client.pem"),
                client_key: file("server.key"),
                ..Default::default()
            },
            "[partners.ticketing.tls] client_cert: the certificate and key do not make an identity",
        ),
        (
            "a certificate given as the key",
            TlsConfig {
                client_cert: file("client.pem"),
                client_key: file("client.pem"),
                ..Default::default()
            },
            "[partners.ticketing.tls] client_key: not a PEM private key",
        ),
    ];
    for (what, cfg, says) in cases {
        match PartnerTls::load("ticketing", &cfg, std::path::Path::new("/")) {
            Ok(t) => panic!("{what}: loaded {t:?}"),
            Err(e) => assert!(e.starts_with(says), "{what}: {e}"),
        }
    }
}

#[test]
fn settings_print_what_they_hold_and_never_the_key() {
    let key = std::fs::read_to_string(fixture("client.key")).expect("the test key");
    let with = format!("{:?}", settings(true));
    assert_eq!(with, "PartnerTls(1 CA certificate(s), client certificate: true)");
    assert!(!with.contains(key.lines().nth(1).unwrap_or("-")), "{with}");
    assert_eq!(
        format!("{:?}", settings(false)),
        "PartnerTls(1 CA certificate(s), client certificate: false)"
    );
}
