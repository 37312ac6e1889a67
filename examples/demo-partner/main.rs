//! The demo partner sandbox the bundled suite runs against: a ticketing API and an incidents
//! API behind an OAuth 2.0 client-credentials token endpoint, with scopes, per-client rate
//! limits (429 + Retry-After), validation errors as 4xx with a body, and a `--drift` switch
//! that changes its answers the way real partners drift.
//!
//! It plays the partner platform's own escalation feature too: escalating a ticket creates an
//! incident whose severity follows the priority mapping, so the contract's mapping can be
//! checked against a live target.
//!
//! Listens on 127.0.0.1 only. Prints `listening on http://127.0.0.1:PORT` once ready.

// Handlers return `Result<_, Response>` to refuse a request early, as axum code does; the
// error is built once per refused request, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod api;
mod auth;
mod util;

use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    pub drift: bool,
    /// Requests per second allowed for the throttled client.
    pub throttled_limit: u32,
    /// Requests per second allowed for every other client (None: unlimited).
    pub limit_all: Option<u32>,
    /// Bugs planted for `contrail conform` to find (`--fault NAME`, repeatable).
    pub faults: Faults,
}

/// Conformance bugs, each off unless asked for, each on one input only, so that a generated
/// request must find it and shrinking must narrow it down.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// createTicket with priority "low" answers 500.
    pub server_error: bool,
    /// listTickets?status=closed answers 204, which the contract does not declare.
    pub undeclared_status: bool,
    /// createTicket with priority "med" answers priority as a number.
    pub wrong_type: bool,
    /// createTicket needs only tickets:read, not tickets:write.
    pub no_scope: bool,
    /// createTicket without a title is created (201) instead of refused (422).
    pub accept_invalid: bool,
    /// getTicket of a ticket that exists leaves out its required customer_id (only a request
    /// with a real id, as a link from createTicket gives, can see it).
    pub read_broken: bool,
    /// escalateTicket of a ticket that exists answers its status as a number.
    pub escalate_broken: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        port: 0,
        drift: false,
        throttled_limit: 5,
        limit_all: None,
        faults: Faults::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                opts.port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?
            }
            "--drift" => opts.drift = true,
            "--throttled-limit" => {
                opts.throttled_limit = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--throttled-limit needs a number")?
            }
            "--limit-all" => {
                opts.limit_all = Some(
                    args.next()
                        .and_then(|p| p.parse().ok())
                        .ok_or("--limit-all needs a number")?,
                )
            }
            "--fault" => match args.next().as_deref() {
                Some("server-error") => opts.faults.server_error = true,
                Some("undeclared-status") => opts.faults.undeclared_status = true,
                Some("wrong-type") => opts.faults.wrong_type = true,
                Some("no-scope") => opts.faults.no_scope = true,
                Some("accept-invalid") => opts.faults.accept_invalid = true,
                Some("read-broken") => opts.faults.read_broken = true,
                Some("escalate-broken") => opts.faults.escalate_broken = true,
                other => {
                    return Err(format!(
                        "--fault {other:?}: one of server-error, undeclared-status, wrong-type, no-scope, accept-invalid, read-broken, escalate-broken"
                    ));
                }
            },
            "--help" | "-h" => {
                println!(
                    "contrail-demo-partner [--port N] [--drift] [--throttled-limit N] [--limit-all N] [--fault NAME]..."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(opts)
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
    let state = Arc::new(api::State::new(opts.clone(), format!("http://{local}")));
    let app = api::router(state);
    println!(
        "listening on http://{local}{}",
        if opts.drift { " (drift on)" } else { "" }
    );
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
