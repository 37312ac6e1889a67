//! The HTTP client contrail talks to a target with.
//!
//! Every exchange is captured (request as sent, response as received, time taken) because a
//! failed step must show both. Response bodies are read with a hard cap so that a partner
//! answering 50 MB gives a clear error instead of eating memory. Transport failures are typed:
//! an unreachable sandbox is a harness problem (exit 3), not a failed assertion.

pub mod auth;
pub mod tls;

use std::time::{Duration, Instant};

use serde_json::Value;

/// Default cap on a response body.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").map(crate::contract::headers::media_type)
    }

    /// The body as JSON; the error says what the body was instead.
    pub fn json(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Err("the response has no body".into());
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "the response body is not JSON ({e}); content type {}, {} bytes",
                self.content_type().unwrap_or_else(|| "not given".into()),
                self.body.len()
            )
        })
    }
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub partner: String,
    /// The contract operation the request was for, when known.
    pub operation: Option<String>,
    pub request: SentRequest,
    pub response: Received,
    pub elapsed: Duration,
}

/// Header contrail's mock server sets on its own answers (not the partner's).
pub const PROXY_HEADER: &str = "x-contrail-mock";
/// Its value when, proxying, the live sandbox could not be reached.
pub const PROXY_UNREACHABLE: &str = "upstream-unreachable";

#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect to {url}: {reason}. Is the partner's sandbox running and its base URL right?")]
    Connect { url: String, reason: String },
    #[error("no answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("the response from {url} is larger than the {limit}-byte limit ({seen}); contrail stopped reading it")]
    TooLarge { url: String, limit: usize, seen: String },
    #[error("the request to {url} failed: {reason}")]
    Other { url: String, reason: String },
    /// The partner answered, then the body broke off: the partner's answer, not the network's.
    #[error("the response from {url} was cut short after {received} bytes{announced}: {reason}")]
    Truncated {
        url: String,
        received: usize,
        /// ", of 2048 announced" when a Content-Length was sent.
        announced: String,
        reason: String,
    },
    #[error(
        "replay never leaves this machine: refusing to send a request to {url} (only 127.0.0.1, ::1 and localhost are allowed)"
    )]
    Offline { url: String },
    /// The TLS handshake failed: named for what it was, not taken for a sandbox that is down.
    #[error("TLS with {host} failed: {what} ({reason})")]
    Tls { host: String, what: String, reason: String },
}

/// Installs the process-wide TLS crypto provider (ring: aws-lc-rs costs minutes of C build).
/// Every reqwest client is built after this; without it, building one panics.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// Whether `inner` talks to contrail's own mocks (never through a proxy).
    local: bool,
    /// Clients of their own for partners with TLS settings, by origin (`https://host:port`).
    per_origin: std::collections::HashMap<String, Origin>,
    /// Which partner an origin is, for messages.
    partners: std::collections::HashMap<String, String>,
    pub max_body: usize,
    pub timeout: Duration,
    /// Refuse every address but loopback (replay runs).
    pub loopback_only: bool,
}

/// A client for one origin, and the TLS settings it was built with.
#[derive(Debug, Clone)]
struct Origin {
    client: reqwest::Client,
    tls: tls::PartnerTls,
    local: bool,
}

/// How long a failed HTTPS request waits for a second handshake to say why (see
/// [`tls::PartnerTls::refusal`]): a refusal comes right after the handshake, one round trip.
pub const REFUSAL_WAIT: Duration = Duration::from_secs(3);

/// Whether the environment may send a client that honours proxies through one: `HTTPS_PROXY`
/// or `ALL_PROXY` is set (NO_PROXY is not weighed: when in doubt, no second handshake).
fn proxied() -> bool {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
}

/// Whether a failed request may be followed by a second handshake ([`tls_failure`]): not
/// after a timeout (the handshake got through, or would hang again), and not when a client
/// that honours proxies (not `local`, to contrail's own mocks) may have gone through one (a
/// handshake made directly would not be the one the request made).
pub fn may_ask_again(timed_out: bool, local: bool) -> bool {
    !timed_out && (local || !proxied())
}

/// What TLS says about a failed request to `url`, and the reason to show: the error chain,
/// and when TLS is not named in it and the request was HTTPS, a handshake made again with the
/// request's settings (`tls`; the platform's roots when None) for the refusal the request may
/// have lost (see [`tls::PartnerTls::refusal`]), when `ask_again` ([`may_ask_again`]).
pub async fn tls_failure(
    url: &str,
    chain: String,
    tls: Option<&tls::PartnerTls>,
    ask_again: bool,
    within: Duration,
) -> (Option<&'static str>, String) {
    if let Some(what) = tls::explain(&chain) {
        return (Some(what), chain);
    }
    let Some(parsed) = url::Url::parse(url).ok().filter(|u| u.scheme() == "https" && ask_again) else {
        return (None, chain);
    };
    let refusal = match tls {
        Some(t) => t.refusal(&parsed, within).await,
        None => match tls::PartnerTls::system() {
            Ok(t) => t.refusal(&parsed, within).await,
            Err(_) => None,
        },
    };
    match refusal.as_deref().and_then(|r| tls::explain(r).map(|w| (w, r))) {
        Some((what, r)) => (Some(what), format!("{chain}; a handshake made again to see why: {r}")),
        None => (None, chain),
    }
}

/// Whether a URL points at this machine.
pub fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl HttpClient {
    /// A client for contrail's own mock servers (`local`: no proxy, ever) or for live
    /// sandboxes (`HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` honoured).
    pub fn new(timeout: Duration, max_body: usize, local: bool) -> Result<Self, String> {
        let inner = builder(timeout, local, None)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            inner,
            local,
            per_origin: Default::default(),
            partners: Default::default(),
            max_body,
            timeout,
            loopback_only: false,
        })
    }

    /// Names the partner at `base_url`'s origin in transport errors.
    pub fn name_partner(&mut self, base_url: &url::Url, partner: &str) {
        self.partners
            .insert(base_url.origin().ascii_serialization(), partner.to_string());
    }

    /// Talks to `base_url`'s origin with a partner's TLS settings.
    pub fn with_partner_tls(&mut self, base_url: &url::Url, tls: &tls::PartnerTls) -> Result<(), String> {
        self.with_origin_tls(base_url, tls, false)
    }

    /// Talks to one of contrail's own mocks over HTTPS, trusting its CA; never via a proxy.
    pub fn with_mock_tls(&mut self, base_url: &url::Url, tls: &tls::PartnerTls) -> Result<(), String> {
        self.with_origin_tls(base_url, tls, true)
    }

    fn with_origin_tls(&mut self, base_url: &url::Url, tls: &tls::PartnerTls, local: bool) -> Result<(), String> {
        let client = builder(self.timeout, local, Some(tls))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for {base_url}: {e}"))?;
        self.per_origin.insert(
            base_url.origin().ascii_serialization(),
            Origin {
                client,
                tls: tls.clone(),
                local,
            },
        );
        Ok(())
    }

    pub async fn send(&self, req: SentRequest) -> Result<(SentRequest, Received, Duration), TransportError> {
        let url = req.url.clone();
        if self.loopback_only && !is_loopback(&url) {
            return Err(TransportError::Offline { url });
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|e| TransportError::Other {
            url: url.clone(),
            reason: format!("bad method: {e}"),
        })?;
        let client = self.origin(&url).map_or(&self.inner, |o| &o.client);
        let mut builder = client.request(method, &url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let mut resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => return Err(self.classify(&url, e).await),
        };
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if let Some(len) = resp.content_length()
            && len as usize > self.max_body
        {
            return Err(TransportError::TooLarge {
                url,
                limit: self.max_body,
                seen: format!("Content-Length {len}"),
            });
        }
        let mut body = Vec::new();
        let announced = resp
            .content_length()
            .map(|n| format!(", of {n} announced"))
            .unwrap_or_default();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(self.classify(&url, e).await),
                Err(e) => {
                    return Err(TransportError::Truncated {
                        url,
                        received: body.len(),
                        announced,
                        reason: error_chain(&e),
                    });
                }
            };
            if body.len() + chunk.len() > self.max_body {
                return Err(TransportError::TooLarge {
                    url,
                    limit: self.max_body,
                    seen: format!("more than {} bytes received", body.len() + chunk.len()),
                });
            }
            body.extend_from_slice(&chunk);
        }
        let received = Received { status, headers, body };
        // contrail's own proxy (record, drift) could not reach the live sandbox: that is the
        // sandbox being unreachable, not an answer from the partner.
        if received.header(PROXY_HEADER) == Some(PROXY_UNREACHABLE) {
            let reason = received
                .json()
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| "the live sandbox could not be reached".into());
            return Err(TransportError::Connect { url, reason });
        }
        Ok((req, received, started.elapsed()))
    }

    fn origin(&self, url: &str) -> Option<&Origin> {
        let u = url::Url::parse(url).ok()?;
        self.per_origin.get(&u.origin().ascii_serialization())
    }

    async fn classify(&self, url: &str, e: reqwest::Error) -> TransportError {
        self.explained(url, error_chain(&e), e.is_timeout(), e.is_connect())
            .await
    }

    async fn explained(&self, url: &str, reason: String, timeout: bool, connect: bool) -> TransportError {
        let (settings, local) = match self.origin(url) {
            Some(o) => (Some(&o.tls), o.local),
            None => (None, self.local),
        };
        let ask_again = may_ask_again(timeout, local);
        let (what, reason) = tls_failure(url, reason, settings, ask_again, REFUSAL_WAIT.min(self.timeout)).await;
        if let Some(what) = what {
            let parsed = url::Url::parse(url).ok();
            let partner = parsed
                .as_ref()
                .and_then(|u| self.partners.get(&u.origin().ascii_serialization()));
            let host = parsed
                .as_ref()
                .and_then(|u| {
                    u.host_str()
                        .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(443)))
                })
                .unwrap_or_else(|| url.to_string());
            let host = match partner {
                Some(p) => format!("{p:?} ({host})"),
                None => host,
            };
            let what = what.replace("NAME", partner.map_or("NAME", String::as_str));
            return TransportError::Tls { host, what, reason };
        }
        if timeout {
            TransportError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            }
        } else if connect {
            TransportError::Connect {
                url: url.to_string(),
                reason,
            }
        } else {
            TransportError::Other {
                url: url.to_string(),
                reason,
            }
        }
    }
}

/// The one way contrail's reqwest clients are built: no redirects followed (a contract test
/// judges the answer it got), its own user agent, a partner's TLS settings when it has some.
pub fn builder(timeout: Duration, local: bool, tls: Option<&tls::PartnerTls>) -> reqwest::ClientBuilder {
    install_crypto_provider();
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("contrail/", env!("CARGO_PKG_VERSION")));
    if local {
        // Replay never leaves the machine, not even through a proxy.
        b = b.no_proxy();
    }
    if let Some(t) = tls {
        b = t.apply(b);
    }
    b
}

/// reqwest's Display is "error sending request"; the cause ("Connection refused") is below it.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests;
