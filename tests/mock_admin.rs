//! The admin API of `contrail mock`: a test that is not a contrail scenario programs faults and
//! reads the journal over HTTP, both ways (the fault happens, then it is over; "exactly 1" is
//! false when 3 arrived and true after a reset).

mod common;

use serde_json::{Value, json};

fn mock(partner: &str, extra: &[&str]) -> common::Mock {
    common::start_mock(&common::repo(), partner, extra, &[], None)
}

const INCIDENT: &str = r#"{ "title": "Disk full", "severity": 2, "link": "https://desk.example/tickets/T-9007", "external_id": "T-9007" }"#;

async fn create_incident(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .post(format!("{url}/incidents"))
        .header("content-type", "application/json")
        // Recorded with a token: a request without one would not match (tests/replay.rs).
        .header("authorization", "Bearer any-token")
        .body(INCIDENT)
        .send()
        .await
        .expect("an answer")
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn faults_and_the_journal_over_http() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let m = mock("incidents", &["--journal-cap", "50"]);
    let c = reqwest::Client::new();
    let admin = format!("{}/__contrail", m.url);

    let health = get(&c, &format!("{admin}/health")).await;
    assert_eq!(health["partner"], "incidents");
    assert_eq!(health["journal"]["cap"], 50);

    // Two throttled answers (one as an HTTP-date), then the recording again.
    for body in [
        json!({ "operation": "createIncident", "status": 429, "retry_after": 1, "body": { "error": "rate_limited" } }),
        json!({ "method": "post", "path": "/incidents", "status": 429, "retry_after_date": 2 }),
    ] {
        let r = c
            .post(format!("{admin}/faults"))
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }
    let first = create_incident(&c, &m.url).await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "1");
    let second = create_incident(&c, &m.url).await;
    assert_eq!(second.status(), 429);
    let date = second.headers()["retry-after"].to_str().expect("ascii").to_string();
    assert!(date.ends_with(" GMT"), "{date}");
    assert_eq!(create_incident(&c, &m.url).await.status(), 201);

    // The journal saw the three, in order, and not the admin requests.
    let j = get(&c, &format!("{admin}/journal?operation=createIncident")).await;
    let statuses: Vec<u64> = j["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [429, 429, 201]);
    assert_eq!(j["requests"][0]["body"]["json"]["external_id"], "T-9007");
    assert_eq!(
        get(&c, &format!("{admin}/journal")).await["requests"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // "exactly 1" is false with three there (and says so at once); after a reset and one
    // more call, it is true.
    let started = std::time::Instant::now();
    let w = get(
        &c,
        &format!("{admin}/journal/wait?operation=createIncident&count=1&mode=exactly&timeout_ms=10000"),
    )
    .await;
    assert_eq!(w["ok"], false);
    assert_eq!(w["received"], 3);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it did not wait out the timeout"
    );
    c.delete(format!("{admin}/journal")).send().await.expect("reset");
    create_incident(&c, &m.url).await;
    let w = get(
        &c,
        &format!("{admin}/journal/wait?operation=createIncident&count=1&mode=exactly&timeout_ms=300"),
    )
    .await;
    assert_eq!(w["ok"], true, "{w}");

    // at-least waits for a request that comes later.
    let waiter = {
        let c = c.clone();
        let url = format!("{admin}/journal/wait?operation=createIncident&count=2&timeout_ms=10000");
        tokio::spawn(async move { get(&c, &url).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    create_incident(&c, &m.url).await;
    let w = waiter.await.expect("joined");
    assert_eq!(w["ok"], true, "{w}");

    // A dropped connection and a cut body, for clients under test.
    c.post(format!("{admin}/faults"))
        .json(&json!({ "operation": "createIncident", "reset": true }))
        .send()
        .await
        .expect("answer");
    assert!(
        c.post(format!("{}/incidents", m.url))
            .body(INCIDENT)
            .send()
            .await
            .is_err()
    );
    c.post(format!("{admin}/faults"))
        .json(&json!({ "operation": "createIncident", "truncate": true }))
        .send()
        .await
        .expect("answer");
    let cut = create_incident(&c, &m.url).await;
    assert!(cut.bytes().await.is_err(), "the body was cut short");

    // Faults can be dropped before they fire.
    c.post(format!("{admin}/faults"))
        .json(&json!({ "operation": "createIncident", "status": 503, "count": 5 }))
        .send()
        .await
        .expect("answer");
    c.delete(format!("{admin}/faults")).send().await.expect("reset");
    assert_eq!(create_incident(&c, &m.url).await.status(), 201);
}

#[tokio::test]
async fn bad_admin_requests_say_what_is_wrong() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let m = mock("incidents", &[]);
    let c = reqwest::Client::new();
    let admin = format!("{}/__contrail", m.url);
    for (body, says) in [
        (
            json!({ "operation": "nope", "status": 503 }),
            "has no operation \"nope\"",
        ),
        (json!({ "operation": "createIncident" }), "give exactly one of"),
        (
            json!({ "operation": "createIncident", "status": 1000 }),
            "not an HTTP status",
        ),
        (
            json!({ "operation": "createIncident", "status": 503, "colour": "red" }),
            "unknown field `colour`",
        ),
        // Answers a worker could not build are refused when programmed, not when served.
        (
            json!({ "operation": "createIncident", "status": 429, "retry_after_date": 9_000_000_000_000u64 }),
            "past the year 9999",
        ),
        (
            json!({ "operation": "createIncident", "status": 503, "headers": { "bad header": "x" } }),
            "not a valid header name",
        ),
        (
            json!({ "operation": "createIncident", "status": 503, "headers": { "x-note": "line\nbreak" } }),
            "not a valid header value",
        ),
        (
            json!({ "operation": "createIncident", "delay_ms": u64::MAX }),
            "more than an hour",
        ),
    ] {
        let r = c
            .post(format!("{admin}/faults"))
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.expect("json");
        let text = v["error"].as_str().unwrap_or_default();
        assert!(text.contains(says), "{body} -> {text}");
    }
    // A path with `%` before a non-ASCII byte (sent raw: a URL library would escape it), and
    // one that is not UTF-8 once decoded: answered, not a dropped worker.
    let addr = m.url.trim_start_matches("http://").to_string();
    for path in [
        &b"/incidents/%1\xc3\xa9x"[..],
        b"/incidents/%\xc3\xa9",
        b"/incidents/%C3%28",
        b"/%",
    ] {
        let answer = tokio::task::spawn_blocking({
            let addr = addr.clone();
            let path = path.to_vec();
            move || {
                use std::io::{Read as _, Write as _};
                let mut s = std::net::TcpStream::connect(addr).expect("connect");
                s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .expect("timeout");
                let mut req = b"GET ".to_vec();
                req.extend(&path);
                req.extend(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                s.write_all(&req).expect("send");
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
        })
        .await
        .expect("join");
        assert!(
            answer.starts_with("HTTP/1.1 4") || answer.starts_with("HTTP/1.1 5"),
            "{path:?}: {answer}"
        );
    }
    let r = c.get(format!("{admin}/nothing")).send().await.expect("answer");
    assert_eq!(r.status(), 404);
    assert!(r.text().await.expect("text").contains("POST /__contrail/faults"));
    // No fault was added by any of that.
    assert_eq!(create_incident(&c, &m.url).await.status(), 201);
}
