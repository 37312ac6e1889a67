//! Webhook delivery: signing latency per scheme (1 KB payload), and the delivery rate to a
//! trivial system under test (a hyper server answering 202) over loopback, signed and not,
//! one at a time and 32 at once. Prints figures only.
//!
//!     cargo bench --bench webhook_delivery

use std::sync::Arc;
use std::time::Instant;

use contrail::webhook::sign::{Scheme, Style};

fn payload() -> Vec<u8> {
    let mut body = br#"{"id":"evt_0123456789ab","type":"ticket.escalated","occurred_at":"2026-11-23T10:00:00Z","ticket":{"id":"T-1","title":"Printer on fire","priority":"high","link":"https://desk.example/tickets/T-1"},"padding":""#.to_vec();
    body.resize(1021, b'x');
    body.extend_from_slice(b"\"}");
    body
}

fn schemes() -> Vec<(&'static str, Scheme)> {
    let s = |style| Scheme {
        style,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
    };
    vec![
        ("github", s(Style::GitHub)),
        ("stripe", s(Style::Stripe)),
        ("slack", s(Style::Slack)),
        ("standard-webhooks", s(Style::StandardWebhooks)),
        (
            "generic",
            s(Style::Generic {
                header: "X-Signature".into(),
                timestamped: true,
            }),
        ),
    ]
}

async fn trivial_sut() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    use http_body_util::BodyExt as _;
                    let _ = req.into_body().collect().await;
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .status(202)
                            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
                            .expect("response"),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/webhooks")
}

async fn deliver(client: &reqwest::Client, url: &str, scheme: Option<&Scheme>, body: &[u8], i: u64) {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = scheme {
        for (k, v) in s.headers(body, 1_795_426_200 + i, &format!("msg_{i}")) {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("delivered");
    assert_eq!(resp.status(), 202);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    contrail::client::install_crypto_provider();
    let body = payload();
    println!("signing a {}-byte payload:", body.len());
    for (name, scheme) in schemes() {
        let n = 100_000u64;
        let started = Instant::now();
        let mut total = 0usize;
        for i in 0..n {
            total += scheme.headers(&body, 1_795_426_200 + i, "msg_x").len();
        }
        let per = started.elapsed() / n as u32;
        println!(
            "  {name:<18} {:>6.2} µs per signature ({total} headers)",
            per.as_nanos() as f64 / 1000.0
        );
    }

    let url = trivial_sut().await;
    let client = reqwest::Client::new();
    let stripe = schemes().remove(1).1;
    for (label, scheme) in [("unsigned", None), ("signed (stripe)", Some(&stripe))] {
        for concurrency in [1usize, 32] {
            let n = 20_000u64;
            // Warm the connections.
            deliver(&client, &url, scheme, &body, 0).await;
            let started = Instant::now();
            let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let (client, url, next, body, scheme) =
                    (client.clone(), url.clone(), next.clone(), body.clone(), scheme.cloned());
                tasks.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        deliver(&client, &url, scheme.as_ref(), &body, i).await;
                    }
                }));
            }
            for t in tasks {
                t.await.expect("joined");
            }
            let took = started.elapsed();
            println!(
                "{label:<16} {concurrency:>2} at once: {:>7.0} events/s ({:.1} µs each)",
                n as f64 / took.as_secs_f64(),
                took.as_secs_f64() * 1e6 / n as f64
            );
        }
    }
}
