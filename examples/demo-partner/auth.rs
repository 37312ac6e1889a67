//! The demo partner's authorization server and rate limiter: known clients with the scopes
//! each may get, opaque bearer tokens, and a fixed one-second window per client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

pub struct Client {
    pub id: &'static str,
    pub secret: &'static str,
    pub scopes: &'static [&'static str],
    /// Requests per second; None is unlimited.
    pub limit: Option<u32>,
}

pub const ALL_SCOPES: &[&str] = &["tickets:read", "tickets:write", "incidents:read", "incidents:write"];

pub fn clients(throttled_limit: u32, limit_all: Option<u32>) -> Vec<Client> {
    vec![
        Client {
            id: "contrail-qa",
            secret: "qa-secret",
            scopes: ALL_SCOPES,
            limit: limit_all,
        },
        Client {
            id: "readonly-app",
            secret: "readonly-secret",
            scopes: &["tickets:read", "incidents:read"],
            limit: limit_all,
        },
        Client {
            id: "throttled-app",
            secret: "throttled-secret",
            scopes: ALL_SCOPES,
            limit: Some(throttled_limit),
        },
    ]
}

pub struct Token {
    pub client: String,
    pub scopes: Vec<String>,
    pub expires: Instant,
}

#[derive(Default)]
pub struct Windows {
    /// "client api" -> (window start, count)
    counts: HashMap<String, (Instant, u32)>,
}

pub struct AuthState {
    /// `--drift`: Retry-After becomes an HTTP-date, as a partner that changed its gateway.
    pub drift: bool,
    pub clients: Vec<Client>,
    pub tokens: Mutex<HashMap<String, Token>>,
    pub windows: Mutex<Windows>,
}

pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

impl AuthState {
    pub fn new(throttled_limit: u32, limit_all: Option<u32>, drift: bool) -> Self {
        Self {
            drift,
            clients: clients(throttled_limit, limit_all),
            tokens: Mutex::new(HashMap::new()),
            windows: Mutex::new(Windows::default()),
        }
    }

    /// Client credentials from HTTP Basic auth or from the form.
    pub fn token(&self, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
        let (id, secret) = match basic(headers) {
            Some(pair) => pair,
            None => (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        let Some(client) = self.clients.iter().find(|c| c.id == id && c.secret == secret) else {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            );
        };
        let wanted: Vec<String> = match form.get("scope") {
            Some(s) if !s.trim().is_empty() => s.split_whitespace().map(str::to_string).collect(),
            _ => client.scopes.iter().map(|s| s.to_string()).collect(),
        };
        if let Some(bad) = wanted.iter().find(|s| !client.scopes.contains(&s.as_str())) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                &format!("the client may not have the scope {bad}"),
            );
        }
        let token = format!(
            "tok_{:016x}{:016x}",
            crate::util::random_u64(),
            crate::util::random_u64()
        );
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(
                token.clone(),
                Token {
                    client: client.id.to_string(),
                    scopes: wanted.clone(),
                    expires: Instant::now() + TOKEN_TTL,
                },
            );
        }
        Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL.as_secs(), "scope": wanted.join(" ") })).into_response()
    }

    /// Checks the bearer token, the scope and the client's rate limit. Ok(client id).
    pub fn authorize(&self, headers: &HeaderMap, scope: &str) -> Result<String, Response> {
        let Some(token) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return Err(bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "no bearer token",
                None,
            ));
        };
        let (client, scopes) = {
            let tokens = self
                .tokens
                .lock()
                .map_err(|_| crate::util::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "lock"))?;
            match tokens.get(token) {
                Some(t) if t.expires > Instant::now() => (t.client.clone(), t.scopes.clone()),
                Some(_) => {
                    return Err(bearer_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "the access token expired",
                        None,
                    ));
                }
                None => {
                    return Err(bearer_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        "unknown access token",
                        None,
                    ));
                }
            }
        };
        if !scopes.iter().any(|s| s == scope) {
            return Err(bearer_error(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &format!("this call needs the scope {scope}"),
                Some(scope),
            ));
        }
        // Each API (tickets, incidents) counts its own budget, as two partners would.
        let api = scope.split(':').next().unwrap_or(scope);
        self.rate_limit(&client, api)?;
        Ok(client)
    }

    fn rate_limit(&self, client: &str, api: &str) -> Result<(), Response> {
        let Some(limit) = self.clients.iter().find(|c| c.id == client).and_then(|c| c.limit) else {
            return Ok(());
        };
        let mut w = self
            .windows
            .lock()
            .map_err(|_| crate::util::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "lock"))?;
        let now = Instant::now();
        let entry = w.counts.entry(format!("{client} {api}")).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(1) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            let retry_after = (Duration::from_secs(1)
                .saturating_sub(now.duration_since(entry.0))
                .as_millis() as u64)
                .div_ceil(1000)
                .max(1);
            let mut resp = crate::util::error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("more than {limit} requests per second"),
            );
            let h = resp.headers_mut();
            if self.drift {
                let at = std::time::SystemTime::now() + Duration::from_secs(retry_after);
                if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
                    h.insert("retry-after", v);
                }
            } else {
                h.insert("retry-after", HeaderValue::from(retry_after));
            }
            h.insert("x-ratelimit-limit", HeaderValue::from(limit));
            h.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
            return Err(resp);
        }
        Ok(())
    }
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::prelude::BASE64_STANDARD.decode(v.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

fn bearer_error(status: StatusCode, code: &str, description: &str, scope: Option<&str>) -> Response {
    let mut resp = (status, Json(json!({ "error": code, "message": description }))).into_response();
    let mut challenge = format!("Bearer realm=\"demo\", error=\"{code}\", error_description=\"{description}\"");
    if let Some(s) = scope {
        challenge.push_str(&format!(", scope=\"{s}\""));
    }
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert("www-authenticate", v);
    }
    resp
}
