//! The demo integration service the bundled edge-case features test (the system under test).
//!
//! On a signed `ticket.escalated` webhook from ticketing it opens an incident in the incidents
//! API with the ticket's link and the severity of the priority mapping (2 when the priority is
//! missing); idempotent on ticket id + event time; an older event arriving after a newer one is
//! ignored; 429 is retried after Retry-After, 5xx with exponential back-off; a 401 refreshes
//! the OAuth token once; a 403 pauses writes and says which scope is missing on `/status`; a
//! payload over 1 MB is refused with 413.
//!
//! `--bug NAME` (repeatable) breaks one of those promises, so the bundled suite can show that
//! it catches each: no-idempotency, ignore-retry-after, no-refresh, accept-bad-signature,
//! out-of-order-overwrites, crash-on-large-payload, wrong-default-severity,
//! ignore-forbidden, no-backoff.
//!
//! Listens on 127.0.0.1 only; prints `listening on http://127.0.0.1:PORT` once ready.

mod outbox;
mod webhook;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

pub const BUGS: &[&str] = &[
    "no-idempotency",
    "ignore-retry-after",
    "no-refresh",
    "accept-bad-signature",
    "out-of-order-overwrites",
    "crash-on-large-payload",
    "wrong-default-severity",
    "ignore-forbidden",
    "no-backoff",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    /// Base URL of the incidents API.
    pub incidents_url: String,
    /// OAuth token endpoint (client credentials and refresh grants).
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Shared secret of ticketing's webhook signatures.
    pub webhook_secret: String,
    pub bugs: BTreeSet<String>,
    /// Answer 503 to the first N webhooks (a deploy in progress): for partner retries.
    pub unavailable_first: u32,
    /// Append each webhook's body, as received, to this file (for tests of byte-exact delivery).
    pub keep_webhooks: Option<String>,
    /// A CA file (PEM) to trust besides the system's, for an incidents API over HTTPS with a
    /// private CA (contrail's mock hands its own as `CONTRAIL_MOCK_CA`).
    pub ca: Option<String>,
}

impl Options {
    pub fn bug(&self, name: &str) -> bool {
        self.bugs.contains(name)
    }
}

fn parse_args() -> Result<Options, String> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let mut o = Options {
        port: 0,
        incidents_url: env("INCIDENTS_URL", ""),
        token_url: env("INCIDENTS_TOKEN_URL", ""),
        client_id: env("INCIDENTS_CLIENT_ID", "contrail-qa"),
        client_secret: env("INCIDENTS_CLIENT_SECRET", "qa-secret"),
        webhook_secret: env("TICKETING_WEBHOOK_SECRET", "whsec_demo"),
        bugs: BTreeSet::new(),
        unavailable_first: 0,
        keep_webhooks: None,
        ca: std::env::var("CONTRAIL_MOCK_CA").ok().filter(|c| !c.is_empty()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--port" => o.port = value()?.parse().map_err(|_| "--port needs a number")?,
            "--incidents-url" => o.incidents_url = value()?,
            "--token-url" => o.token_url = value()?,
            "--client-id" => o.client_id = value()?,
            "--client-secret" => o.client_secret = value()?,
            "--webhook-secret" => o.webhook_secret = value()?,
            "--unavailable-first" => {
                o.unavailable_first = value()?.parse().map_err(|_| "--unavailable-first needs a number")?
            }
            "--ca" => o.ca = Some(value()?),
            "--keep-webhooks" => o.keep_webhooks = Some(value()?),
            "--bug" => {
                let b = value()?;
                if !BUGS.contains(&b.as_str()) {
                    return Err(format!("unknown bug {b:?} (bugs: {})", BUGS.join(", ")));
                }
                o.bugs.insert(b);
            }
            "--help" | "-h" => {
                println!(
                    "contrail-demo-integration --incidents-url URL --token-url URL [--port N] [--client-id ID] [--client-secret S] [--webhook-secret S] [--unavailable-first N] [--ca PEM] [--keep-webhooks FILE] [--bug NAME]...\nbugs: {}",
                    BUGS.join(", ")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if o.incidents_url.is_empty() || o.token_url.is_empty() {
        return Err("--incidents-url and --token-url are required".into());
    }
    Ok(o)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], opts.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            std::process::exit(3);
        }
    };
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let outbox = match outbox::Outbox::new(opts.clone()) {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(3);
        }
    };
    let state = Arc::new(webhook::State::new(opts.clone(), outbox));
    let app = webhook::router(state);
    let bugs = if opts.bugs.is_empty() {
        String::new()
    } else {
        format!(" (bugs: {})", opts.bugs.iter().cloned().collect::<Vec<_>>().join(", "))
    };
    println!("listening on http://{local}{bugs}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        eprintln!("error: {e}");
        std::process::exit(3);
    }
}
