//! The baseline for the replay benchmark: a minimal hyper server answering the same recorded
//! responses, pre-serialised, from a HashMap keyed by method + path + query. It reads a request's
//! body (as any server must) but never looks at it: no matching, no journal, no policy. Not part
//! of contrail; bench/replay.sh builds it (`--features bench`).
//!
//!     hyper-baseline PORT RECORDINGS_DIR

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// `GET /items/1?a=b`: the query as the client sent it, in the recorded order.
fn key(method: &str, path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path}?{query}")
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).expect("PORT");
    let dir = args.next().expect("RECORDINGS_DIR");
    let (items, errors) = contrail::recording::load_dir(std::path::Path::new(&dir));
    assert!(errors.is_empty(), "{errors}");
    let map: HashMap<String, (u16, Bytes)> = items
        .into_iter()
        .map(|(_, i)| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&i.request.query)
                .finish();
            (
                key(&i.request.method, &i.request.path, &query),
                (i.response.status, Bytes::from(i.response.body.to_bytes())),
            )
        })
        .collect();
    let map = Arc::new(map);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("listening on http://127.0.0.1:{port}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let map = map.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let map = map.clone();
                async move {
                    let k = key(req.method().as_str(), req.uri().path(), req.uri().query().unwrap_or(""));
                    let _ = req.into_body().collect().await;
                    let resp = match map.get(&k) {
                        Some((status, body)) => Response::builder()
                            .status(*status)
                            .header("content-type", "application/json")
                            .body(Full::new(body.clone())),
                        None => Response::builder().status(501).body(Full::new(Bytes::new())),
                    };
                    Ok::<_, Infallible>(resp.unwrap_or_default())
                }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
