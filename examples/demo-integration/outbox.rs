//! The outbox: incidents to open, sent one at a time by a background task, with the failure
//! behaviour the contract asks for: 429 waits Retry-After (seconds or HTTP-date) and backs off
//! exponentially, 5xx and dropped connections back off exponentially, 401 refreshes the token
//! and retries once, 403 pauses writes and says which scope is missing.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::Options;

/// Attempts per incident before giving up (and telling the admin on `/status`).
const ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Incident {
    pub title: String,
    pub severity: u8,
    pub link: String,
    pub external_id: String,
}

#[derive(Debug, Default)]
struct Status {
    sent: u64,
    failed: u64,
    paused: bool,
    error: Option<String>,
}

pub struct Outbox {
    tx: mpsc::UnboundedSender<Incident>,
    status: std::sync::Arc<Mutex<Status>>,
}

struct Token {
    access: String,
    refresh: Option<String>,
}

struct Worker {
    opts: Options,
    http: reqwest::Client,
    token: Option<Token>,
    status: std::sync::Arc<Mutex<Status>>,
}

enum Outcome {
    Sent,
    Failed(String),
    /// 403: writes stop until the service is fixed.
    Paused(String),
}

impl Outbox {
    pub fn new(opts: Options) -> Result<Outbox, String> {
        contrail::client::install_crypto_provider();
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(10));
        if let Some(ca) = &opts.ca {
            let pem = std::fs::read(ca).map_err(|e| format!("--ca {ca}: {e}"))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("--ca {ca}: {e}"))?;
            http = http.tls_certs_merge(certs);
        }
        let http = http.build().map_err(|e| e.to_string())?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Incident>();
        let status = std::sync::Arc::new(Mutex::new(Status::default()));
        let mut worker = Worker {
            opts,
            http,
            token: None,
            status: status.clone(),
        };
        tokio::spawn(async move {
            while let Some(incident) = rx.recv().await {
                if worker.lock().paused {
                    // Writes are paused: the event is kept out, and /status says why.
                    worker.lock().failed += 1;
                    continue;
                }
                match worker.deliver(&incident).await {
                    Outcome::Sent => worker.lock().sent += 1,
                    Outcome::Failed(why) => {
                        eprintln!("incident for {} not opened: {why}", incident.external_id);
                        let mut s = worker.lock();
                        s.failed += 1;
                        s.error = Some(why);
                    }
                    Outcome::Paused(why) => {
                        eprintln!("writes paused: {why}");
                        let mut s = worker.lock();
                        s.failed += 1;
                        s.paused = true;
                        s.error = Some(why);
                    }
                }
            }
        });
        Ok(Outbox { tx, status })
    }

    pub fn send(&self, incident: Incident) {
        let _ = self.tx.send(incident);
    }

    pub fn status(&self) -> Value {
        let s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        json!({ "sent": s.sent, "failed": s.failed, "paused": s.paused, "error": s.error })
    }
}

/// How long a 429 asks to wait: seconds or an HTTP-date.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

impl Worker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Client credentials, or the refresh token when there is one.
    async fn fetch_token(&mut self) -> Result<(), String> {
        let form: Vec<(&str, String)> = match self.token.as_ref().and_then(|t| t.refresh.clone()) {
            Some(r) => vec![("grant_type", "refresh_token".into()), ("refresh_token", r)],
            None => vec![
                ("grant_type", "client_credentials".into()),
                ("scope", "incidents:write".into()),
            ],
        };
        let basic =
            base64::prelude::BASE64_STANDARD.encode(format!("{}:{}", self.opts.client_id, self.opts.client_secret));
        let resp = self
            .http
            .post(&self.opts.token_url)
            .header("authorization", format!("Basic {basic}"))
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("the token endpoint: {e}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            // A refused refresh token: start over with the client's credentials next time.
            self.token = None;
            return Err(format!("the token endpoint answered {status}: {body}"));
        }
        let access = body["access_token"]
            .as_str()
            .ok_or("the token endpoint sent no access_token")?
            .to_string();
        self.token = Some(Token {
            access,
            refresh: body["refresh_token"].as_str().map(str::to_string),
        });
        Ok(())
    }

    async fn deliver(&mut self, incident: &Incident) -> Outcome {
        let body = json!({
            "title": incident.title,
            "severity": incident.severity,
            "link": incident.link,
            "external_id": incident.external_id,
        });
        let url = format!("{}/incidents", self.opts.incidents_url.trim_end_matches('/'));
        let mut backoff = FIRST_BACKOFF;
        let mut refreshed = false;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            // No waiting after the last attempt: give up at once.
            let last_attempt = attempt == ATTEMPTS;
            if self.token.is_none()
                && let Err(e) = self.fetch_token().await
            {
                last = e;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            let access = self.token.as_ref().map(|t| t.access.clone()).unwrap_or_default();
            let resp = self.http.post(&url).bearer_auth(&access).json(&body).send().await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    last = format!("the incidents API: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            let status = resp.status().as_u16();
            match status {
                200..=299 => return Outcome::Sent,
                401 => {
                    if refreshed || self.opts.bug("no-refresh") {
                        return Outcome::Failed(format!(
                            "the incidents API answered 401 with a fresh token ({access:.8}…)"
                        ));
                    }
                    refreshed = true;
                    if let Err(e) = self.fetch_token().await {
                        // The refresh token itself was refused: reconnect with the credentials.
                        last = e;
                        if let Err(e) = self.fetch_token().await {
                            return Outcome::Failed(format!("cannot reconnect: {last}; then {e}"));
                        }
                    }
                }
                403 if self.opts.bug("ignore-forbidden") => {
                    return Outcome::Failed("the incidents API answered 403".into());
                }
                403 => {
                    let challenge = resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let scope = challenge
                        .split("scope=\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("incidents:write")
                        .to_string();
                    return Outcome::Paused(format!(
                        "the incidents API refused to open incidents: the client lacks the scope {scope}; writes are paused until an admin grants it"
                    ));
                }
                429 => {
                    let asked = retry_after(&resp).unwrap_or(backoff);
                    let wait = if self.opts.bug("ignore-retry-after") {
                        Duration::from_millis(50)
                    } else {
                        asked.max(backoff)
                    };
                    last = format!("429 (Retry-After {} ms)", asked.as_millis());
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                500..=599 => {
                    last = format!("the incidents API answered {status}");
                    if last_attempt {
                        break;
                    }
                    if self.opts.bug("no-backoff") {
                        tokio::time::sleep(FIRST_BACKOFF).await;
                        continue;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                _ => {
                    let text = resp.text().await.unwrap_or_default();
                    return Outcome::Failed(format!("the incidents API answered {status}: {text}"));
                }
            }
        }
        Outcome::Failed(format!("gave up after {ATTEMPTS} attempts; last: {last}"))
    }
}
