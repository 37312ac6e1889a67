//! The mock server's request handling: arbitrary methods, targets, headers and bodies through
//! `server::InProcess::handle`, the function hyper's service calls, in the three ways a mock
//! meets requests it did not choose: replay (a scenario's or anyone's), record (proxied to a
//! stub partner on 127.0.0.1 and written to disk), and simulate (a system under test talking
//! to the partner the contract describes).
//!
//! An input is a partner byte (bit 0: ticketing or incidents), then up to eight requests
//! separated by NUL, each `METHOD TARGET\nName: value\n...\n\nbody`. Requests hyper's own
//! parser would refuse (a bad method, target or header) are left out: they never reach us.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use contrail::server::{self, InProcess};
use http_body_util::{BodyExt as _, Full};
use hyper::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Replay,
    Record,
    Simulate,
}

struct Setup {
    rt: tokio::runtime::Runtime,
    /// ticketing, incidents
    mocks: [InProcess; 2],
    /// Record mode's recordings, emptied before each input.
    record_dirs: Vec<PathBuf>,
    _scratch: Option<tempfile::TempDir>,
}

thread_local! {
    static SETUPS: RefCell<Vec<(Mode, Arc<Setup>)>> = const { RefCell::new(Vec::new()) };
}

fn setup(mode: Mode) -> Arc<Setup> {
    SETUPS.with(|s| {
        if let Some((_, found)) = s.borrow().iter().find(|(m, _)| *m == mode) {
            return found.clone();
        }
        let made = Arc::new(build(mode));
        s.borrow_mut().push((mode, made.clone()));
        made
    })
}

fn build(mode: Mode) -> Setup {
    // Replay and simulate never touch the network: paused time makes a programmed delay or a
    // journal wait cost nothing. Record talks to a real socket, so its clock runs.
    let mut rt = tokio::runtime::Builder::new_current_thread();
    rt.enable_all();
    if mode != Mode::Record {
        rt.start_paused(true);
    }
    let rt = rt.build().expect("a runtime");
    let contract = super::files::demo_contract();
    let scratch = (mode == Mode::Record).then(|| tempfile::tempdir().expect("a scratch folder"));
    let upstream = (mode == Mode::Record).then(|| rt.block_on(stub_partner()));
    let mut record_dirs = Vec::new();
    let mocks = ["ticketing", "incidents"].map(|partner| {
        let (dir, server_mode) = match (&scratch, &upstream) {
            (Some(scratch), Some(upstream)) => {
                let dir = scratch.path().join(partner);
                std::fs::create_dir_all(&dir).expect("a recordings folder");
                record_dirs.push(dir.clone());
                (
                    dir,
                    server::Mode::Record {
                        upstream: upstream.clone(),
                    },
                )
            }
            _ => (super::root().join("recordings").join(partner), server::Mode::Replay),
        };
        let limits = server::Limits {
            // Record mode's clock is real: keep the admin API (and its delays) out of reach.
            admin_token: (mode == Mode::Record).then(|| format!("{:x}", std::process::id() as u64 * 0x9e37_79b9)),
            ..server::Limits::default()
        };
        let cfg = server::Config {
            partner: partner.to_string(),
            contract: contract.clone(),
            dir,
            mode: server_mode,
            port: 0,
            journal_cap: 64,
            simulate: mode == Mode::Simulate,
            limits,
            upstream_tls: None,
            tls: None,
        };
        let _guard = rt.enter();
        InProcess::new(cfg).unwrap_or_else(|e| panic!("the bundled {partner} mock starts: {e}"))
    });
    Setup {
        rt,
        mocks,
        record_dirs,
        _scratch: scratch,
    }
}

/// A partner that answers anything: the request's body back, with its credential echoed in a
/// JSON field and a cookie, as careless sandboxes do. Recording must redact both.
async fn stub_partner() -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the stub");
    let addr = listener.local_addr().expect("the stub's address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .unwrap_or_default();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let echoed: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_else(|_| String::from_utf8_lossy(&body).into());
                    let answer = serde_json::json!({ "echo": echoed, "authorization": auth });
                    let mut reply = hyper::Response::new(Full::new(Bytes::from(answer.to_string())));
                    reply.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    if let Ok(cookie) = hyper::header::HeaderValue::from_str(&format!("session={auth}")) {
                        reply.headers_mut().insert("set-cookie", cookie);
                    }
                    Ok::<_, std::convert::Infallible>(reply)
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    url::Url::parse(&format!("http://{addr}/")).expect("the stub's URL")
}

/// One parsed request, and the credential it carries (for the no-secret-on-disk check).
struct Parsed {
    request: Request<Full<Bytes>>,
    credential: Option<String>,
}

fn parse(raw: &[u8]) -> Option<Parsed> {
    let (head, body) = match raw.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&raw[..i], &raw[i + 2..]),
        None => (raw, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let first = lines.next()?;
    let mut words = first.splitn(2, |b| *b == b' ');
    let method = hyper::Method::from_bytes(words.next()?).ok()?;
    let target = std::str::from_utf8(words.next().unwrap_or(b"/")).ok()?;
    let uri: hyper::Uri = target.parse().ok()?;
    // hyper hands the service an origin-form target on a server connection.
    uri.path_and_query()?;
    if uri.scheme().is_some() {
        return None;
    }
    let mut builder = Request::builder().method(method).uri(uri);
    let mut credential = None;
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = hyper::header::HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = hyper::header::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        if name == hyper::header::AUTHORIZATION {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            credential = Some(v.split_once(' ').map_or(v.clone(), |(_, t)| t.trim().to_string()));
        }
        builder = builder.header(name, value);
    }
    let request = builder.body(Full::new(Bytes::copy_from_slice(body))).ok()?;
    Some(Parsed { request, credential })
}

/// Runs one input; returns the files record mode wrote (after checking them).
pub fn mock(mode: Mode, data: &[u8]) -> Vec<PathBuf> {
    let Some((&which, requests)) = data.split_first() else {
        return Vec::new();
    };
    let s = setup(mode);
    let mock = &s.mocks[usize::from(which & 1)];
    let control = mock.control();
    control.faults().clear();
    control.journal().clear();
    for dir in &s.record_dirs {
        for f in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let _ = std::fs::remove_file(f.path());
        }
    }
    let parsed: Vec<Parsed> = requests.split(|b| *b == 0).take(8).filter_map(parse).collect();
    // What each file held when last checked: a file is checked when a request writes (or
    // rewrites) it, against the credentials sent so far. One written before a request taught
    // contrail a credential could not have known to mask it.
    let mut seen: std::collections::HashMap<PathBuf, Vec<u8>> = Default::default();
    let mut credentials: Vec<String> = Vec::new();
    for p in parsed {
        credentials.extend(p.credential.clone());
        s.rt.block_on(async {
            if let Ok(reply) = mock.handle(p.request).await {
                let mut body = reply.into_body();
                let mut read = 0usize;
                // A padded or endless answer is read up to 1 MB: enough to reach every branch.
                while read < 1 << 20 {
                    match body.frame().await {
                        Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
                        _ => break,
                    }
                }
            }
        });
        if mode != Mode::Record {
            continue;
        }
        let mut written = Vec::new();
        for file in s
            .record_dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .map(|e| e.path())
        {
            let now = std::fs::read(&file).unwrap_or_default();
            if seen.get(&file) != Some(&now) {
                seen.insert(file.clone(), now);
                written.push(file);
            }
        }
        no_credential_on_disk(&written, &credentials);
    }
    seen.into_keys().collect()
}

/// A recorded file must never hold a credential the request carried, wherever the request or
/// the partner's echo put it (a path, a query, a header's name, a JSON key), in any of its
/// strings or numbers or inside a binary body (base64 on disk hides nothing from a reader).
/// Each string is searched as read (escapes resolved), one at a time: a "credential" that the
/// file spells only across its own JSON layout (`kie": "<redacted>"` plus the newline after
/// it, from a redacted cookie) is not one the file holds.
pub fn no_credential_on_disk(files: &[PathBuf], credentials: &[String]) {
    let secret: Vec<&String> = credentials.iter().filter(|c| c.len() >= 16).collect();
    if secret.is_empty() {
        return;
    }
    for file in files {
        let text = std::fs::read(file).unwrap_or_default();
        let readable = match serde_json::from_slice::<serde_json::Value>(&text) {
            Ok(json) => {
                let mut found = Vec::new();
                texts_of(&json, &mut found);
                for part in ["request", "response"] {
                    if let Some(b) = json[part]["body"]["base64"].as_str() {
                        use base64::Engine as _;
                        found.extend(base64::prelude::BASE64_STANDARD.decode(b));
                    }
                }
                found
            }
            // Not JSON (it would fail loading anyway): the raw text is what a reader sees.
            Err(_) => vec![text.clone()],
        };
        for c in &secret {
            assert!(
                !readable.iter().any(|r| r.windows(c.len()).any(|w| w == c.as_bytes())),
                "{} holds the request's credential {c:?}:\n{}",
                file.display(),
                String::from_utf8_lossy(&text)
            );
        }
    }
}

/// Every key, string and number text of a document, each on its own.
fn texts_of(v: &serde_json::Value, out: &mut Vec<Vec<u8>>) {
    match v {
        serde_json::Value::String(s) => out.push(s.as_bytes().to_vec()),
        serde_json::Value::Number(n) => out.push(n.to_string().into_bytes()),
        serde_json::Value::Array(a) => a.iter().for_each(|c| texts_of(c, out)),
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                out.push(k.as_bytes().to_vec());
                texts_of(c, out);
            }
        }
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}
