//! The partner simulator: what a mock server does for a system under test, which sends
//! requests no scenario recorded. It plays the partner's OAuth 2.0 authorization server
//! (client credentials and refresh-token grants, access tokens with scopes and expiry, refresh
//! token rotation, RFC 7009 revocation), checks every API call's token, scope and per-client
//! rate limit as the contract says, and answers a valid call from the contract: the first
//! declared 2xx response, made from the request's own fields and the response schema.
//!
//! Scenarios change the partner mid-run ("access tokens expire after 2 seconds", "the scope
//! ... is removed from the client") through `MockControl::simulator()`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::contract::Contract;
use crate::contract::model::AuthDoc;
use crate::contract::operation::ResponseSchema;
use crate::recording::Body;
use crate::webhook::generate::{self, Rng};

const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// A simulated answer (status, headers, JSON body).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

fn bearer_error(status: u16, error: &str, description: &str, scope: Option<&str>) -> Answer {
    let mut challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Some(s) = scope {
        challenge.push_str(&format!(", scope=\"{s}\""));
    }
    let mut a = answer(status, json!({ "error": error, "error_description": description }));
    a.headers.push(("www-authenticate".into(), challenge));
    a
}

struct Access {
    client: String,
    scopes: Vec<String>,
    expires: Instant,
    revoked: bool,
}

struct Refresh {
    client: String,
    scopes: Vec<String>,
    /// Rotation: a refresh token works once.
    used: bool,
    revoked: bool,
}

#[derive(Default)]
struct State {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    ttl: Option<Duration>,
    /// Scopes taken away from the clients (mid-run, by a scenario).
    removed: BTreeSet<String>,
    /// Client -> (window start, requests in it).
    windows: HashMap<String, (Instant, u32)>,
    rng_state: u64,
}

/// A partner whose API takes a fixed credential (the contract's `bearer` or `api-key` auth).
enum KeyGuard {
    Bearer(Result<String, String>),
    ApiKey {
        header: Option<String>,
        query: Option<String>,
        value: Result<String, String>,
    },
}

pub struct Simulator {
    partner: String,
    /// The fixed credential it takes, for bearer and API-key partners.
    key: Option<KeyGuard>,
    /// Path of the token endpoint on this mock, when the partner uses OAuth.
    token_path: Option<String>,
    /// The contract's own client, whose secret is checked.
    /// `Err`: the contract names a secret that is not set, and every client is refused
    /// (fail closed) rather than any secret accepted.
    client: Option<Result<(String, String), String>>,
    default_scopes: Vec<String>,
    rate_limit: Option<(u32, Duration)>,
    state: Mutex<State>,
}

impl Simulator {
    pub fn new(contract: &Contract, partner: &str) -> Simulator {
        let p = contract.partner(partner);
        // An absolute token URL elsewhere is not this mock's to serve; its path is.
        let token_path = p.and_then(|p| p.token_path());
        let mut client = None;
        let mut default_scopes = Vec::new();
        if let Some(AuthDoc::Oauth2ClientCredentials {
            client_id,
            client_secret,
            scopes,
            request,
            ..
        }) = p.and_then(|p| p.doc.auth.as_ref())
        {
            client = Some(
                match (
                    crate::interpolate::interpolate_env(client_id),
                    crate::interpolate::interpolate_env(client_secret),
                ) {
                    (Ok(id), Ok(secret)) => Ok((id, secret)),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                },
            );
            default_scopes = request.clone().unwrap_or_else(|| scopes.keys().cloned().collect());
        }
        let rate_limit = p.and_then(|p| p.rate_limit).map(|r| (r.requests, r.per));
        let key = match p.and_then(|p| p.doc.auth.as_ref()) {
            Some(AuthDoc::Bearer { token }) => Some(KeyGuard::Bearer(crate::interpolate::interpolate_env(token))),
            Some(AuthDoc::ApiKey { header, query, value }) => Some(KeyGuard::ApiKey {
                header: header.clone(),
                query: query.clone(),
                value: crate::interpolate::interpolate_env(value),
            }),
            _ => None,
        };
        let seed = crate::seed::derive(&["simulator", partner]);
        Simulator {
            partner: partner.to_string(),
            key,
            token_path,
            client,
            default_scopes,
            rate_limit,
            state: Mutex::new(State {
                rng_state: seed,
                ..State::default()
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `path` is this partner's token or revocation endpoint.
    pub fn is_auth_path(&self, path: &str) -> bool {
        self.token_path
            .as_deref()
            .is_some_and(|t| path == t || path == format!("{t}/revoke"))
    }

    // ---- what scenarios change -------------------------------------------------------------

    /// Access tokens issued from now on expire after `ttl`.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state().ttl = Some(ttl);
    }

    /// Undoes what a scenario changed that would outlive it: token lifetime, removed scopes.
    /// (Revoked tokens stay revoked, as at a real partner.)
    pub fn reset_changes(&self) {
        let mut s = self.state();
        s.ttl = None;
        s.removed.clear();
    }

    /// Gives every client its whole rate-limit budget back (a generated case starts afresh).
    pub fn reset_rate_windows(&self) {
        self.state().windows.clear();
    }

    /// Revokes every access token issued so far; returns how many.
    pub fn revoke_access_tokens(&self) -> usize {
        let mut s = self.state();
        s.access
            .values_mut()
            .filter(|a| !a.revoked)
            .map(|a| a.revoked = true)
            .count()
    }

    /// Revokes every refresh token issued so far; returns how many.
    pub fn revoke_refresh_tokens(&self) -> usize {
        let mut s = self.state();
        s.refresh
            .values_mut()
            .filter(|r| !r.revoked)
            .map(|r| r.revoked = true)
            .count()
    }

    /// Takes `scope` away from every client (tokens already issued lose it too).
    pub fn remove_scope(&self, scope: &str) {
        self.state().removed.insert(scope.to_string());
    }

    // ---- the authorization server ----------------------------------------------------------

    fn token(s: &mut State) -> String {
        let mut rng = Rng::new(s.rng_state);
        let t = format!("sim_{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        s.rng_state = rng.next_u64();
        // Issued by contrail, but a credential all the same: masked wherever it is echoed.
        crate::secrets::remember(&t);
        t
    }

    fn issue(&self, s: &mut State, client: &str, scopes: Vec<String>) -> Answer {
        let ttl = s.ttl.unwrap_or(DEFAULT_TTL);
        // Tokens long expired can go: a client still using one is told "unknown token", which
        // is the same 401 invalid_token.
        let horizon = Instant::now().checked_sub(Duration::from_secs(60));
        s.access.retain(|_, a| horizon.is_none_or(|h| a.expires > h));
        let access = Self::token(s);
        let refresh = Self::token(s);
        s.access.insert(
            access.clone(),
            Access {
                client: client.to_string(),
                scopes: scopes.clone(),
                expires: crate::clock::deadline(ttl),
                revoked: false,
            },
        );
        s.refresh.insert(
            refresh.clone(),
            Refresh {
                client: client.to_string(),
                scopes: scopes.clone(),
                used: false,
                revoked: false,
            },
        );
        answer(
            200,
            json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ttl.as_secs().max(1),
                "refresh_token": refresh,
                "scope": scopes.join(" "),
            }),
        )
    }

    /// `POST {token_url}` and `POST {token_url}/revoke`.
    pub fn auth_endpoint(&self, path: &str, authorization: Option<&str>, body: &Body) -> Answer {
        let form: HashMap<String, String> = match body {
            Body::Form(f) => url::form_urlencoded::parse(f.as_bytes()).into_owned().collect(),
            _ => HashMap::new(),
        };
        let basic = authorization
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(|b| {
                use base64::Engine as _;
                base64::prelude::BASE64_STANDARD.decode(b.trim()).ok()
            })
            .and_then(|raw| {
                String::from_utf8_lossy(&raw)
                    .split_once(':')
                    .map(|(i, s)| (i.to_string(), s.to_string()))
            });
        let (id, secret) =
            match basic.or_else(|| Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone()))) {
                Some(c) => c,
                None => {
                    return answer(
                        401,
                        json!({ "error": "invalid_client", "error_description": "no client credentials" }),
                    );
                }
            };
        if let Some(Err(why)) = &self.client {
            return answer(
                401,
                json!({
                    "error": "invalid_client",
                    "error_description": format!("the simulated partner cannot check any client: {why}")
                }),
            );
        }
        if secret.is_empty()
            || self
                .client
                .as_ref()
                .and_then(|c| c.as_ref().ok())
                .is_some_and(|(cid, cs)| *cid == id && *cs != secret)
        {
            return answer(
                401,
                json!({ "error": "invalid_client", "error_description": "wrong client secret" }),
            );
        }
        let mut s = self.state();
        if path.ends_with("/revoke") {
            // RFC 7009: 200 whether or not the token was known.
            if let Some(t) = form.get("token") {
                if let Some(a) = s.access.get_mut(t) {
                    a.revoked = true;
                }
                if let Some(r) = s.refresh.get_mut(t) {
                    r.revoked = true;
                }
            }
            return answer(200, json!({}));
        }
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {
                let asked: Vec<String> = match form.get("scope") {
                    Some(sc) if !sc.trim().is_empty() => sc.split_whitespace().map(str::to_string).collect(),
                    _ => self.default_scopes.clone(),
                };
                let granted: Vec<String> = asked.into_iter().filter(|sc| !s.removed.contains(sc)).collect();
                self.issue(&mut s, &id, granted)
            }
            Some("refresh_token") => {
                let Some(t) = form.get("refresh_token") else {
                    return answer(
                        400,
                        json!({ "error": "invalid_request", "error_description": "no refresh_token" }),
                    );
                };
                let why = match s.refresh.get(t) {
                    None => Some("unknown refresh token"),
                    Some(r) if r.revoked => Some("the refresh token was revoked"),
                    Some(r) if r.used => Some("the refresh token was already used (rotation)"),
                    Some(r) if r.client != id => Some("the refresh token belongs to another client"),
                    Some(_) => None,
                };
                if let Some(why) = why {
                    return answer(400, json!({ "error": "invalid_grant", "error_description": why }));
                }
                let (client, scopes) = match s.refresh.get_mut(t) {
                    Some(r) => {
                        r.used = true;
                        (r.client.clone(), r.scopes.clone())
                    }
                    None => return answer(400, json!({ "error": "invalid_grant" })),
                };
                let scopes = scopes.into_iter().filter(|sc| !s.removed.contains(sc)).collect();
                self.issue(&mut s, &client, scopes)
            }
            other => answer(
                400,
                json!({ "error": "unsupported_grant_type", "error_description": format!("{other:?}") }),
            ),
        }
    }

    // ---- the API ---------------------------------------------------------------------------

    /// Checks token, scopes and rate limit of an API call; `Some` is the refusal.
    /// Whether a call of `op` gets in, by the contract's auth and the operation's security
    /// requirement: a public operation lets anyone in; a bearer or API-key partner wants its
    /// credential (all are refused when it is unset: fail closed); an OAuth partner a valid
    /// token with the operation's scopes, within the rate limit. `Some` is the refusal.
    pub fn admit(
        &self,
        op: &crate::contract::Operation,
        headers: &[(String, String)],
        query: &[(String, String)],
    ) -> Option<Answer> {
        if op.public {
            return None;
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        match &self.key {
            Some(KeyGuard::Bearer(expected)) => {
                let Ok(expected) = expected else {
                    return Some(bearer_error(
                        401,
                        "invalid_token",
                        "the contract's bearer token is not set here, so every call is refused",
                        None,
                    ));
                };
                match header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .map(str::trim)
                {
                    None => Some(bearer_error(401, "invalid_token", "no bearer token", None)),
                    Some(t) if t != expected => Some(bearer_error(401, "invalid_token", "unknown bearer token", None)),
                    Some(_) => None,
                }
            }
            Some(KeyGuard::ApiKey {
                header: h,
                query: q,
                value,
            }) => {
                let key_header = h.as_deref().unwrap_or(crate::contract::model::DEFAULT_API_KEY_HEADER);
                let place = match q {
                    Some(q) => format!("query parameter {q}"),
                    None => format!("header {key_header}"),
                };
                let refuse = |why: &str| {
                    let mut a = answer(401, json!({ "error": "invalid_api_key", "error_description": why }));
                    a.headers.push((
                        "www-authenticate".into(),
                        format!("ApiKey realm=\"{}\", in=\"{place}\"", self.partner),
                    ));
                    Some(a)
                };
                let Ok(expected) = value else {
                    return refuse("the contract's API key is not set here, so every call is refused");
                };
                let given = match q {
                    Some(q) => query.iter().find(|(k, _)| k == q).map(|(_, v)| v.as_str()),
                    None => header(key_header),
                };
                match given {
                    None => refuse(&format!("no API key in the {place}")),
                    Some(g) if g != expected => refuse(&format!("unknown API key in the {place}")),
                    Some(_) => None,
                }
            }
            None => self.check(header("authorization"), &op.scopes),
        }
    }

    pub fn check(&self, authorization: Option<&str>, scopes: &[String]) -> Option<Answer> {
        self.token_path.as_ref()?;
        let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")).map(str::trim) else {
            return Some(bearer_error(401, "invalid_token", "no bearer token", None));
        };
        let mut s = self.state();
        let client = match s.access.get(token) {
            None => return Some(bearer_error(401, "invalid_token", "unknown access token", None)),
            Some(a) if a.revoked => {
                return Some(bearer_error(401, "invalid_token", "the access token was revoked", None));
            }
            Some(a) if a.expires <= Instant::now() => {
                return Some(bearer_error(401, "invalid_token", "the access token expired", None));
            }
            Some(a) => {
                if let Some(missing) = scopes
                    .iter()
                    .find(|sc| !a.scopes.contains(sc) || s.removed.contains(*sc))
                {
                    return Some(bearer_error(
                        403,
                        "insufficient_scope",
                        &format!("this call needs the scope {missing}"),
                        Some(missing),
                    ));
                }
                a.client.clone()
            }
        };
        let (limit, per) = self.rate_limit?;
        let now = Instant::now();
        let w = s.windows.entry(client).or_insert((now, 0));
        if now.duration_since(w.0) >= per {
            *w = (now, 0);
        }
        w.1 += 1;
        if w.1 > limit {
            let wait = per.saturating_sub(now.duration_since(w.0));
            let mut a = answer(
                429,
                json!({ "error": "rate_limited", "message": format!("more than {limit} requests per {per:?}") }),
            );
            a.headers.extend([
                ("retry-after".into(), wait.as_secs().max(1).to_string()),
                ("x-ratelimit-limit".into(), limit.to_string()),
                ("x-ratelimit-remaining".into(), "0".into()),
            ]);
            return Some(a);
        }
        None
    }

    /// The contract's answer to a valid call: the first declared 2xx, built from the response
    /// schema, its example and the request's fields of the same names. A request the contract
    /// forbids (a parameter, a header, the content type, the body) gets what a strict partner
    /// answers: 422 with every violation listed.
    pub fn respond(
        &self,
        contract: &Contract,
        op: &crate::contract::Operation,
        view: &crate::contract::request_check::RequestView<'_>,
        request: &Body,
    ) -> Answer {
        match crate::contract::request_check::check(&contract.schemas, op, view) {
            Ok(violations) if !violations.is_empty() => {
                let details: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
                return answer(
                    422,
                    json!({ "error": "validation_failed", "message": format!("the {} request breaks the contract", op.id), "details": details }),
                );
            }
            Ok(_) => {}
            Err(e) => {
                return answer(
                    500,
                    json!({ "error": format!("contrail simulator: the contract's schemas for {} do not compile: {e}", op.id) }),
                );
            }
        }
        let Some(status) = op
            .responses
            .keys()
            .filter_map(|k| k.parse::<u16>().ok())
            .filter(|s| (200..300).contains(s))
            .min()
        else {
            return answer(
                501,
                json!({ "error": format!("contrail simulator: {}'s {} declares no 2xx response to simulate", self.partner, op.id) }),
            );
        };
        let resolve = |r: &str| contract.schemas.resolve_ref(r).cloned();
        let mut s = self.state();
        let mut rng = Rng::new(s.rng_state);
        let body = match op.response_schema(status, "application/json") {
            ResponseSchema::Schema { schema, .. } => Some(made_body(schema, request, &resolve, &mut rng)),
            _ => None,
        };
        let headers = required_headers(op, status, &resolve, &mut rng);
        s.rng_state = rng.next_u64();
        let mut a = match body {
            Some(body) => answer(status, body),
            None => Answer {
                status,
                headers: Vec::new(),
                body: Value::Null,
            },
        };
        a.headers.extend(headers);
        a
    }
}

/// An answer's body from its schema: the example and the request's fields of the same names
/// make an object (with a new id, not the example's); an array or a scalar is made from the
/// schema alone.
fn made_body(
    schema: &crate::contract::operation::SchemaRef,
    request: &Body,
    resolve: &dyn Fn(&str) -> Option<Value>,
    rng: &mut Rng,
) -> Value {
    let resolved = match schema.schema.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => resolve(r).unwrap_or_else(|| (*schema.schema).clone()),
        None => (*schema.schema).clone(),
    };
    let mut given = match resolved.get("example") {
        Some(Value::Object(e)) => e.clone(),
        _ => serde_json::Map::new(),
    };
    let props = resolved.get("properties").and_then(|p| p.as_object());
    if let (Body::Json(Value::Object(req)), Some(props)) = (request, props) {
        for (k, v) in req {
            if props.contains_key(k) {
                given.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(id_schema) = props.and_then(|p| p.get("id")) {
        given.insert("id".into(), generate::fill(id_schema, None, &resolve, rng));
    }
    let is_object = props.is_some() || resolved.get("type").and_then(Value::as_str) == Some("object");
    generate::fill(&resolved, is_object.then_some(&Value::Object(given)), &resolve, rng)
}

/// The headers the contract requires on an answer of `op` with `status`, made from their
/// schemas (a list joined with commas, as HTTP writes one).
fn required_headers(
    op: &crate::contract::Operation,
    status: u16,
    resolve: &dyn Fn(&str) -> Option<Value>,
    rng: &mut Rng,
) -> Vec<(String, String)> {
    let Some((_, declared)) = op.response_for(status) else {
        return Vec::new();
    };
    declared
        .headers
        .iter()
        .filter(|h| h.required)
        .map(|h| {
            let value = match &h.schema {
                Some(sc) => generate::fill(&sc.schema, None, &resolve, rng),
                None => Value::String(String::new()),
            };
            let text = match value {
                Value::String(t) => t,
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            (h.name.to_ascii_lowercase(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> (Contract, Simulator) {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/support-escalation.yaml");
        let c = Contract::load(&file).expect("the bundled contract loads");
        let s = Simulator::new(&c, "incidents");
        (c, s)
    }

    fn form(pairs: &[(&str, &str)]) -> Body {
        Body::Form(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish(),
        )
    }

    fn basic() -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::prelude::BASE64_STANDARD.encode("contrail-qa:qa-secret")
        )
    }

    fn token(s: &Simulator, scope: &str) -> Value {
        let a = s.auth_endpoint(
            "/oauth/token",
            Some(&basic()),
            &form(&[("grant_type", "client_credentials"), ("scope", scope)]),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    fn bearer(t: &Value) -> String {
        format!("Bearer {}", t["access_token"].as_str().unwrap_or_default())
    }

    const WRITE: &str = "incidents:write";

    #[test]
    fn tokens_follow_the_runs_seed() {
        // Two simulators of one partner in one run (one seed) issue the same tokens.
        let (_, a) = sim();
        let (_, b) = sim();
        assert_eq!(token(&a, WRITE)["access_token"], token(&b, WRITE)["access_token"]);
        assert_ne!(
            token(&a, WRITE)["access_token"],
            token(&b, WRITE)["refresh_token"],
            "and a stream, not one value"
        );
    }

    #[test]
    fn an_unset_client_secret_refuses_every_client() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.yaml");
        std::fs::write(
            &file,
            "contract: c\nversion: \"1\"\npartners:\n  p:\n    auth: { type: oauth2-client-credentials, token_url: /oauth/token, client_id: qa, client_secret: \"${env:CONTRAIL_TEST_UNSET_SECRET_9}\" }\n    operations: []\n",
        )
        .expect("write");
        let c = Contract::load(&file).expect("loads");
        let s = Simulator::new(&c, "p");
        for (id, secret) in [("qa", "anything"), ("other-client", "x"), ("qa", "")] {
            use base64::Engine as _;
            let auth = format!(
                "Basic {}",
                base64::prelude::BASE64_STANDARD.encode(format!("{id}:{secret}"))
            );
            let a = s.auth_endpoint(
                "/oauth/token",
                Some(&auth),
                &form(&[("grant_type", "client_credentials")]),
            );
            assert_eq!(a.status, 401, "{id}: {}", a.body);
            assert_eq!(a.body["error"], "invalid_client");
        }
        let a = s.auth_endpoint(
            "/oauth/token",
            Some("Basic cWE6YW55dGhpbmc="),
            &form(&[("grant_type", "client_credentials")]),
        );
        assert!(
            a.body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("CONTRAIL_TEST_UNSET_SECRET_9"),
            "{}",
            a.body
        );
    }

    #[test]
    fn a_refresh_token_works_once() {
        let (_, s) = sim();
        let t = token(&s, WRITE);
        let refresh = t["refresh_token"].as_str().unwrap_or_default().to_string();
        let grant = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
        let first = s.auth_endpoint("/oauth/token", Some(&basic()), &form(&grant));
        assert_eq!(first.status, 200, "{}", first.body);
        assert_ne!(first.body["refresh_token"], t["refresh_token"], "rotated");
        let reuse = s.auth_endpoint("/oauth/token", Some(&basic()), &form(&grant));
        assert_eq!(reuse.status, 400);
        assert_eq!(reuse.body["error"], "invalid_grant");
        assert!(
            reuse.body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("rotation")
        );
    }

    #[test]
    fn a_revoked_token_is_refused_on_the_very_next_call() {
        let (_, s) = sim();
        let t = token(&s, WRITE);
        assert!(s.check(Some(&bearer(&t)), &[WRITE.into()]).is_none(), "valid before");
        let r = s.auth_endpoint(
            "/oauth/token/revoke",
            Some(&basic()),
            &form(&[("token", t["access_token"].as_str().unwrap_or_default())]),
        );
        assert_eq!(r.status, 200);
        let refused = s.check(Some(&bearer(&t)), &[WRITE.into()]).expect("refused");
        assert_eq!(refused.status, 401);
        assert!(
            refused
                .headers
                .iter()
                .any(|(k, v)| k == "www-authenticate" && v.contains("invalid_token"))
        );
    }

    #[test]
    fn expiry_scopes_and_secrets() {
        let (_, s) = sim();
        s.set_token_ttl(Duration::ZERO);
        let t = token(&s, WRITE);
        let expired = s.check(Some(&bearer(&t)), &[WRITE.into()]).expect("refused");
        assert!(
            expired.body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("expired")
        );

        let (_, s) = sim();
        let t = token(&s, "incidents:read");
        let refused = s.check(Some(&bearer(&t)), &[WRITE.into()]).expect("refused");
        assert_eq!(refused.status, 403);
        assert!(
            refused
                .headers
                .iter()
                .any(|(_, v)| v.contains("scope=\"incidents:write\""))
        );
        let t = token(&s, WRITE);
        assert!(s.check(Some(&bearer(&t)), &[WRITE.into()]).is_none());
        s.remove_scope(WRITE);
        assert_eq!(s.check(Some(&bearer(&t)), &[WRITE.into()]).map(|a| a.status), Some(403));
        assert_eq!(token(&s, WRITE)["scope"], "", "a removed scope is not granted again");

        let wrong = s.auth_endpoint(
            "/oauth/token",
            Some("Basic Y29udHJhaWwtcWE6d3Jvbmc="),
            &form(&[("grant_type", "client_credentials")]),
        );
        assert_eq!(wrong.status, 401);
    }

    #[test]
    fn valid_calls_are_answered_from_the_contract_and_invalid_ones_refused() {
        let (c, s) = sim();
        let op = c
            .partner("incidents")
            .and_then(|p| p.operation("createIncident"))
            .expect("op")
            .clone();
        let send = |v: &Value, content_type: Option<&str>| {
            let bytes = serde_json::to_vec(v).expect("json");
            let headers: Vec<(String, String)> = content_type
                .map(|c| ("content-type".to_string(), c.to_string()))
                .into_iter()
                .collect();
            let view = crate::contract::request_check::RequestView {
                path: "/incidents",
                query: &[],
                headers: &headers,
                body: Some(&bytes),
            };
            s.respond(&c, &op, &view, &Body::Json(v.clone()))
        };
        let good = json!({ "title": "Disk full", "severity": 1, "link": "https://d/T-1", "external_id": "T-1" });
        let a = send(&good, Some("application/json; charset=utf-8"));
        assert_eq!(a.status, 201);
        assert_eq!(a.body["external_id"], "T-1");
        assert_eq!(a.body["severity"], 1);
        let schema = match op.response_schema(201, "application/json") {
            ResponseSchema::Schema { schema, .. } => schema.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            c.schemas.validate(&schema, &a.body).expect("validates"),
            vec![],
            "{}",
            a.body
        );
        // Every violation is listed: the body's and the content type's.
        let bad = json!({ "title": "Disk full", "severity": 9, "external_id": "T-1" });
        let refused = send(&bad, Some("application/json"));
        assert_eq!(refused.status, 422);
        let details = refused.body["details"].to_string();
        assert!(details.contains("body/severity"), "{details}");
        assert!(details.contains("body/link"), "{details}");
        let refused = send(&good, Some("text/plain"));
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.body["details"][0]
                .as_str()
                .unwrap_or_default()
                .starts_with("header Content-Type")
        );
        assert_eq!(send(&good, None).status, 422);
    }

    #[test]
    fn the_rate_limit_answers_429_with_retry_after() {
        let (_, s) = sim();
        let t = token(&s, WRITE);
        let statuses: Vec<u16> = (0..7)
            .map(|_| {
                s.check(Some(&bearer(&t)), &[WRITE.into()])
                    .map(|a| a.status)
                    .unwrap_or(200)
            })
            .collect();
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    }
}
