//! Credentials from the contract, applied to requests: OAuth 2.0 client credentials (tokens
//! fetched once and cached per partner and scope set, shared by concurrent scenarios), bearer
//! tokens and API keys. Secrets come from `${env:...}` references in the contract.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use tokio::sync::Mutex;

use super::{HttpClient, SentRequest};
use crate::contract::AuthDoc;
use crate::interpolate::interpolate_env;

/// Why credentials could not be applied.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint could not be reached.
    #[error("could not get an OAuth token: {0}")]
    Transport(#[from] super::TransportError),
    /// The partner answered and said no: that is the partner's behaviour, a finding.
    #[error("{0}")]
    Refused(String),
    /// The contract's auth settings are unusable (a missing env variable, a bad URL).
    #[error("{0}")]
    Config(String),
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    expires: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<(String, String), CachedToken>>,
}

/// What a request carries, decided per scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// As the contract says.
    #[default]
    Contract,
    /// Nothing at all (to see the partner refuse).
    Anonymous,
    /// An OAuth token limited to these scopes.
    Scopes(Vec<String>),
    /// An OAuth token for another client of the partner (its own scopes and rate limit).
    Client { id: String, secret: String },
}

impl TokenCache {
    /// Adds the contract's credentials for `partner` to `req`.
    pub async fn apply(
        &self,
        client: &HttpClient,
        partner: &str,
        base_url: &url::Url,
        auth: Option<&AuthDoc>,
        creds: &Credentials,
        req: &mut SentRequest,
    ) -> Result<(), AuthError> {
        if *creds == Credentials::Anonymous {
            return Ok(());
        }
        match auth {
            None | Some(AuthDoc::None) => Ok(()),
            Some(AuthDoc::Bearer { token }) => {
                // The contract's secrets were remembered when the run loaded the contracts.
                let token = interpolate_env(token).map_err(AuthError::Config)?;
                req.headers.push(("Authorization".into(), format!("Bearer {token}")));
                Ok(())
            }
            Some(AuthDoc::ApiKey { header, query, value }) => {
                let value = interpolate_env(value).map_err(AuthError::Config)?;
                if let Some(q) = query {
                    let mut url = url::Url::parse(&req.url).map_err(|e| AuthError::Config(e.to_string()))?;
                    url.query_pairs_mut().append_pair(q, &value);
                    req.url = url.to_string();
                } else {
                    req.headers.push((
                        header
                            .clone()
                            .unwrap_or_else(|| crate::contract::model::DEFAULT_API_KEY_HEADER.into()),
                        value,
                    ));
                }
                Ok(())
            }
            Some(AuthDoc::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scopes,
                request,
            }) => {
                let wanted: Vec<String> = match creds {
                    Credentials::Scopes(s) => s.clone(),
                    // Another client asks for what it is allowed: no scope parameter.
                    Credentials::Client { .. } => Vec::new(),
                    _ => request.clone().unwrap_or_else(|| scopes.keys().cloned().collect()),
                };
                let (id, client_secret) = match creds {
                    Credentials::Client { id, secret: s } => (id.clone(), secret(s.clone())),
                    _ => (
                        interpolate_env(client_id).map_err(AuthError::Config)?,
                        interpolate_env(client_secret).map_err(AuthError::Config)?,
                    ),
                };
                let key = (format!("{partner}/{id}"), wanted.join(" "));
                let mut tokens = self.tokens.lock().await;
                let fresh = tokens
                    .get(&key)
                    .filter(|t| t.expires.is_none_or(|e| e > Instant::now() + Duration::from_secs(5)));
                let token = match fresh {
                    Some(t) => t.token.clone(),
                    None => {
                        let url = base_url
                            .join(token_url)
                            .map_err(|e| AuthError::Config(format!("bad token_url {token_url:?}: {e}")))?;
                        let t = fetch_token(client, url.as_str(), &id, &client_secret, &wanted).await?;
                        let token = t.token.clone();
                        tokens.insert(key, t);
                        token
                    }
                };
                req.headers.push(("Authorization".into(), format!("Bearer {token}")));
                Ok(())
            }
        }
    }
}

async fn fetch_token(
    client: &HttpClient,
    url: &str,
    id: &str,
    client_secret: &str,
    scopes: &[String],
) -> Result<CachedToken, AuthError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if !scopes.is_empty() {
        form.append_pair("scope", &scopes.join(" "));
    }
    let req = SentRequest {
        method: "POST".into(),
        url: url.to_string(),
        headers: vec![
            ("Content-Type".into(), "application/x-www-form-urlencoded".into()),
            (
                "Authorization".into(),
                format!("Basic {}", BASE64_STANDARD.encode(format!("{id}:{client_secret}"))),
            ),
            ("Accept".into(), "application/json".into()),
        ],
        body: Some(form.finish().into_bytes()),
    };
    let (_, resp, _) = client.send(req).await?;
    let body: serde_json::Value = resp.json().unwrap_or(serde_json::Value::Null);
    if resp.status != 200 {
        let why = body.get("error").and_then(|e| e.as_str()).unwrap_or("no error code");
        let desc = body.get("error_description").and_then(|e| e.as_str()).unwrap_or("");
        return Err(AuthError::Refused(format!(
            "the token endpoint {url} refused client {id:?} with {} ({why}) {desc}",
            resp.status
        )));
    }
    let token = body
        .get("access_token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| AuthError::Refused(format!("the token endpoint {url} answered without an access_token")))?;
    let expires = body
        .get("expires_in")
        .and_then(|e| e.as_u64())
        // A lifetime past what the clock can hold (`expires_in: 1e19`) never expires.
        .map(|s| crate::clock::deadline(Duration::from_secs(s)));
    Ok(CachedToken {
        token: secret(token.to_string()),
        expires,
    })
}

/// A secret the run did not know when it loaded the contracts (a token obtained, a client
/// secret a step gave): remembered, so that it is masked wherever it shows up later.
fn secret(value: String) -> String {
    crate::secrets::remember(&value);
    value
}

/// Remembers every secret the contracts' auth names (their `${env:...}` values), before
/// anything runs: a scenario that fails before it authenticates must not print them either.
pub fn remember_catalog_secrets(catalog: &crate::contract::Catalog) {
    for p in catalog.contracts.values().flat_map(|c| c.partners.values()) {
        let value = match &p.doc.auth {
            Some(AuthDoc::Bearer { token }) => token,
            Some(AuthDoc::ApiKey { value, .. }) => value,
            Some(AuthDoc::Oauth2ClientCredentials { client_secret, .. }) => client_secret,
            _ => continue,
        };
        if let Ok(v) = interpolate_env(value) {
            crate::secrets::remember(&v);
        }
    }
}
