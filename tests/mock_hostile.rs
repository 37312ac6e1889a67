//! A mock server that survives hostile clients: a flood of idle connections past its file
//! limit, a slowloris, huge bodies, huge oversized-answer faults, and a web page trying to
//! reach the admin API.

mod common;
use common::*;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The bundled workspace with `[mock]` limits small enough to test.
fn workspace(mock_toml: &str) -> tempfile::TempDir {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::write(ws.path().join("contrail.toml"), format!("[mock]\n{mock_toml}")).unwrap();
    ws
}

fn addr(m: &Mock) -> String {
    m.url.trim_start_matches("http://").to_string()
}

/// Sends raw bytes and reads the answer until the server closes (or 10 s pass).
fn raw(addr: &str, request: &[u8]) -> String {
    raw_within(addr, request, Duration::from_secs(10))
}

/// The same, giving up (empty answer) after `limit`, also when not even connected by then.
fn raw_within(addr: &str, request: &[u8], limit: Duration) -> String {
    let Ok(sock) = addr.parse() else { return String::new() };
    let Ok(mut s) = TcpStream::connect_timeout(&sock, limit) else {
        return String::new();
    };
    s.set_read_timeout(Some(limit)).expect("timeout");
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A raw POST of `body` with extra `headers` (each ending in CRLF); the answer.
fn post(addr: &str, path: &str, headers: &str, body: &[u8]) -> String {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw(addr, &req)
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024
}

/// A mock limited to 256 files under a flood of 2,000 idle connections and a slowloris: how
/// long until a health check is answered 200, if it is within `limit`. The slowloris is
/// returned too.
fn flood_then_health(mock_toml: &str, limit: Duration) -> (Option<Duration>, TcpStream, Mock) {
    let ws = workspace(mock_toml);
    let m = start_mock(ws.path(), "ticketing", &[], &[], Some(256));
    let a = addr(&m);
    let sock = a.parse().expect("an address");
    // A slowloris first, so it holds a connection the mock took: headers started, never finished.
    let mut slow = TcpStream::connect(&a).expect("connect");
    slow.write_all(b"GET /__contrail/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("send");
    // 2,000, or as many as the kernel's queue takes (three connects in a row timing out).
    let mut flood = Vec::new();
    let mut misses = 0;
    while flood.len() < 2000 && misses < 3 {
        match TcpStream::connect_timeout(&sock, Duration::from_millis(200)) {
            Ok(s) => {
                flood.push(s);
                misses = 0;
            }
            Err(_) => misses += 1,
        }
    }
    assert!(
        flood.len() > 256,
        "the flood outnumbers the mock's files ({})",
        flood.len()
    );
    let started = Instant::now();
    let request = b"GET /__contrail/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let took = loop {
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            break None;
        }
        let answer = raw_within(&a, request, left);
        if answer.starts_with("HTTP/1.1 200") {
            assert!(answer.contains("\"partner\": \"ticketing\""), "{answer}");
            break Some(started.elapsed());
        }
        // Beyond the cap a 503 says so, at once: never anything else.
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 503"), "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(flood);
    (took, slow, m)
}

#[test]
fn a_flood_of_idle_connections_past_the_file_limit_does_not_starve_a_normal_request() {
    let (took, mut slow, _m) = flood_then_health(
        "max_connections = 100\nidle_timeout = \"1s\"\n",
        Duration::from_secs(20),
    );
    let took = took.expect("never answered 200 while the flood was open");
    eprintln!("answered 200 {took:?} after a flood of 2,000 idle connections");
    // The slowloris was closed by the server, without an answer.
    slow.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut rest = Vec::new();
    assert!(slow.read_to_end(&mut rest).is_ok(), "the slow connection is still open");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

#[test]
fn without_the_cap_and_the_idle_timeout_the_same_flood_starves_the_mock() {
    // The planted fault: the protections set out of reach. Proves the test above can fail.
    let (took, _slow, _m) = flood_then_health(
        "max_connections = 1000000\nidle_timeout = \"1h\"\n",
        Duration::from_secs(3),
    );
    assert_eq!(took, None, "answered although every file was taken");
}

#[test]
fn huge_bodies_and_huge_faults_do_not_grow_the_mock() {
    let ws = workspace("");
    let m = start_mock(ws.path(), "incidents", &[], &[], None);
    let a = addr(&m);
    let body = vec![b'x'; 10 * 1024 * 1024];
    for _ in 0..30 {
        let answer = post(&a, "/incidents", "Content-Type: text/plain\r\n", &body);
        assert!(
            answer.starts_with("HTTP/1.1 501"),
            "{}",
            &answer[..answer.len().min(200)]
        );
    }
    let after_bodies = rss_mb(m.child.id());
    assert!(
        after_bodies < 120,
        "30 requests of 10 MB left the mock at {after_bodies} MB"
    );
    // The journal says what it kept.
    let journal = raw(
        &a,
        b"GET /__contrail/journal HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(
        journal.contains("\"body_bytes\": 10485760") && journal.contains("\"body_sha256\": \""),
        "{}",
        &journal[..journal.len().min(600)]
    );

    // A 300 MB answer is streamed, not built.
    let fault = br#"{"operation": "listIncidents", "oversized_bytes": 314572800}"#;
    let faulted = post(&a, "/__contrail/faults", "Content-Type: application/json\r\n", fault);
    assert!(faulted.starts_with("HTTP/1.1 201"), "{faulted}");
    let mut s = TcpStream::connect(&a).expect("connect");
    s.write_all(b"GET /incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let mut peak = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
        if total % (64 << 20) < (1 << 16) {
            peak = peak.max(rss_mb(m.child.id()));
        }
    }
    assert!(total > 314_572_800, "the whole answer came ({total} bytes)");
    assert!(peak < 120, "the 300 MB answer took the mock to {peak} MB");
}

#[test]
fn the_admin_api_refuses_web_pages_and_wants_its_token() {
    let ws = workspace("");
    let m = start_mock(
        ws.path(),
        "incidents",
        &[],
        &[("CONTRAIL_ADMIN_TOKEN", "t0ken-admin-42")],
        None,
    );
    let a = addr(&m);
    let fault = |headers: &str| {
        post(
            &a,
            "/__contrail/faults",
            headers,
            br#"{"operation": "createIncident", "status": 503}"#,
        )
    };
    let json = "Content-Type: application/json\r\n";
    let auth = "Authorization: Bearer t0ken-admin-42\r\n";
    assert!(fault(json).starts_with("HTTP/1.1 401"), "no token");
    assert!(fault(&format!("{json}Authorization: Bearer wrong\r\n")).starts_with("HTTP/1.1 401"));
    assert!(
        fault(&format!("{auth}Content-Type: text/plain\r\n")).starts_with("HTTP/1.1 415"),
        "a form or text post"
    );
    assert!(
        fault(&format!("{json}{auth}Origin: http://evil.example\r\n")).starts_with("HTTP/1.1 403"),
        "cross-origin"
    );
    let rebinding = raw(
        &a,
        format!("GET /__contrail/journal HTTP/1.1\r\nHost: evil.example:80\r\n{auth}Connection: close\r\n\r\n")
            .as_bytes(),
    );
    assert!(
        rebinding.starts_with("HTTP/1.1 403") && rebinding.contains("Host"),
        "{rebinding}"
    );
    // Refused ones changed nothing; the right one works.
    let ok = fault(&format!("{json}{auth}Origin: http://127.0.0.1:9\r\n"));
    assert!(ok.starts_with("HTTP/1.1 201"), "{ok}");
}
