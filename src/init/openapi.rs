//! A workspace started from a partner's OpenAPI document (`contrail init --from-openapi`): the
//! contract's auth read from `securitySchemes` (secrets as `${env:...}`), and one smoke feature
//! per tag: the safe GETs that need no ids run as they are; every other operation is a
//! commented-out template to fill in. No I/O here: the callers read and write.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// The contract's `auth:` block (indented for a partner), the environment variables it reads,
/// and a note for the person when the document's scheme cannot be used as it is.
pub struct Auth {
    pub yaml: String,
    pub env: Vec<String>,
    pub note: Option<String>,
}

/// A YAML scalar that reads back as exactly `s`.
pub fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The auth block for the document's security: the first scheme the global `security` names
/// that contrail can use, else the first usable one declared.
pub fn auth(doc: &Value, partner: &str) -> Auth {
    let schemes = doc.pointer("/components/securitySchemes").and_then(Value::as_object);
    let Some(schemes) = schemes.filter(|s| !s.is_empty()) else {
        return Auth {
            yaml: format!(
                "    # The document declares no security scheme. If the API needs a token:\n    # auth: {{ type: bearer, token: \"${{env:{}}}\" }}\n",
                crate::interpolate::env_var_name(partner, "token")
            ),
            env: Vec::new(),
            note: None,
        };
    };
    let mut order: Vec<&str> = doc
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|req| req.keys().map(String::as_str))
        .collect();
    order.extend(schemes.keys().map(String::as_str));
    let mut unusable = Vec::new();
    for name in order {
        let Some(s) = schemes.get(name) else { continue };
        let kind = s.get("type").and_then(Value::as_str).unwrap_or_default();
        let scheme = s
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        match kind {
            "oauth2" => {
                if let Some(cc) = s.pointer("/flows/clientCredentials") {
                    let (id, secret) = (
                        crate::interpolate::env_var_name(partner, "client_id"),
                        crate::interpolate::env_var_name(partner, "client_secret"),
                    );
                    let mut yaml = format!(
                        "    # From the document's security scheme {name:?} (OAuth 2.0 client credentials).\n    auth:\n      type: oauth2-client-credentials\n      token_url: {}\n      client_id: \"${{env:{id}}}\"\n      client_secret: \"${{env:{secret}}}\"\n",
                        quoted(cc.get("tokenUrl").and_then(Value::as_str).unwrap_or("/oauth/token"))
                    );
                    let scopes = cc.get("scopes").and_then(Value::as_object);
                    if let Some(scopes) = scopes.filter(|m| !m.is_empty()) {
                        yaml.push_str("      scopes:\n");
                        for (k, v) in scopes {
                            let _ = writeln!(
                                yaml,
                                "        {}: {}",
                                quoted(k),
                                quoted(v.as_str().unwrap_or_default())
                            );
                        }
                    }
                    return Auth {
                        yaml,
                        env: vec![id, secret],
                        note: None,
                    };
                }
                // Authorization code, implicit, password: a person gets the token.
                let token = crate::interpolate::env_var_name(partner, "token");
                return Auth {
                    yaml: format!(
                        "    # The document's scheme {name:?} is OAuth 2.0 without client credentials: get a token\n    # for the sandbox by its own flow and put it in {token}.\n    auth: {{ type: bearer, token: \"${{env:{token}}}\" }}\n"
                    ),
                    env: vec![token.clone()],
                    note: Some(format!(
                        "{name}: OAuth 2.0 without a client-credentials flow; a token is read from {token}"
                    )),
                };
            }
            "openIdConnect" => {
                let token = crate::interpolate::env_var_name(partner, "token");
                return Auth {
                    yaml: format!(
                        "    # From {name:?} (OpenID Connect): a token read from {token}.\n    auth: {{ type: bearer, token: \"${{env:{token}}}\" }}\n"
                    ),
                    env: vec![token.clone()],
                    note: Some(format!("{name}: OpenID Connect; a token is read from {token}")),
                };
            }
            "http" if scheme == "bearer" => {
                let token = crate::interpolate::env_var_name(partner, "token");
                return Auth {
                    yaml: format!(
                        "    # From the document's security scheme {name:?} (HTTP bearer).\n    auth: {{ type: bearer, token: \"${{env:{token}}}\" }}\n"
                    ),
                    env: vec![token],
                    note: None,
                };
            }
            "apiKey" => {
                let key_name = s.get("name").and_then(Value::as_str).unwrap_or("X-Api-Key");
                let value = crate::interpolate::env_var_name(partner, "api_key");
                let place = match s.get("in").and_then(Value::as_str) {
                    Some("header") => "header",
                    Some("query") => "query",
                    _ => {
                        unusable.push(format!("{name}: an API key in a cookie"));
                        continue;
                    }
                };
                return Auth {
                    yaml: format!(
                        "    # From the document's security scheme {name:?} (an API key).\n    auth: {{ type: api-key, {place}: {}, value: \"${{env:{value}}}\" }}\n",
                        quoted(key_name)
                    ),
                    env: vec![value],
                    note: None,
                };
            }
            other => unusable.push(format!("{name}: {other} {scheme}").trim().to_string()),
        }
    }
    Auth {
        yaml: "    # None of the document's security schemes can be used as they are; write `auth:` by hand.\n".into(),
        env: Vec::new(),
        note: Some(format!("no usable security scheme ({})", unusable.join("; "))),
    }
}

/// One operation as the smoke features need it.
pub struct Op {
    pub id: String,
    pub method: String,
    pub path: String,
    pub tag: Option<String>,
    pub summary: Option<String>,
    /// Parameters that must be given (name, where).
    pub required: Vec<(String, String)>,
    pub has_body: bool,
    /// The lowest 2xx status declared, if one is.
    pub success: Option<u16>,
}

impl Op {
    /// A safe GET that needs nothing from the person: it runs as written.
    pub fn smoke(&self) -> bool {
        self.method == "GET" && self.required.is_empty() && !self.has_body && self.success.is_some()
    }
}

/// Feature files by name: one per tag (operations without one go to the partner's own).
pub fn features(contract: &str, partner: &str, ops: &[Op]) -> BTreeMap<String, String> {
    let mut by_tag: BTreeMap<String, Vec<&Op>> = BTreeMap::new();
    for op in ops {
        by_tag
            .entry(op.tag.clone().unwrap_or_else(|| partner.to_string()))
            .or_default()
            .push(op);
    }
    let mut out = BTreeMap::new();
    for (tag, ops) in by_tag {
        let mut name = slug(&tag);
        let mut n = 2;
        while out.contains_key(&format!("{name}.feature")) {
            name = format!("{}-{n}", slug(&tag));
            n += 1;
        }
        let mut text = format!(
            "# Smoke checks of {partner}'s {tag:?} operations, written by `contrail init --from-openapi`.\n\
             # The scenarios call the safe GETs that need no ids; the other operations are templates\n\
             # to fill in (uncomment, give the values, run `contrail lint`).\n\
             Feature: {}\n\n  Background:\n    Given the contract {}\n",
            one_line(&tag),
            quoted(contract)
        );
        for op in ops.iter().filter(|o| o.smoke()) {
            text.push('\n');
            if let Some(s) = &op.summary {
                let _ = writeln!(text, "  # {}", one_line(s));
            }
            let _ = write!(
                text,
                "  Scenario: {} answers as the contract says\n    When I call {}\n    Then the response status is {}\n    And the response matches the contract\n",
                one_line(&op.id),
                quoted(&op.id),
                op.success.unwrap_or(200)
            );
        }
        for op in ops.iter().filter(|o| !o.smoke()) {
            let _ = writeln!(
                text,
                "\n  # {} {}{}",
                op.method,
                op.path,
                op.summary
                    .as_deref()
                    .map(|s| format!(": {}", one_line(s)))
                    .unwrap_or_default()
            );
            let _ = writeln!(text, "  # Scenario: {}", one_line(&op.id));
            for (name, place) in &op.required {
                let step = match place.as_str() {
                    "path" => "the path parameter",
                    "query" => "the query parameter",
                    _ => "the header",
                };
                let _ = writeln!(text, "  #   Given {step} {} is \"...\"", quoted(name));
            }
            if op.has_body {
                let _ = writeln!(
                    text,
                    "  #   When I call {} with the body:\n  #     \"\"\"json\n  #     {{ }}\n  #     \"\"\"",
                    quoted(&op.id)
                );
            } else {
                let _ = writeln!(text, "  #   When I call {}", quoted(&op.id));
            }
            let _ = writeln!(
                text,
                "  #   Then the response status is {}\n  #   And the response matches the contract",
                op.success.unwrap_or(200)
            );
        }
        out.insert(format!("{name}.feature"), text);
    }
    out
}

/// A file name from a tag: lower case, words joined by `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "operations".into() } else { out }
}

/// Text that must stay on one line of a feature file.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_of_security_scheme_becomes_auth_with_secrets_from_the_environment() {
        let doc =
            |schemes: Value, security: Value| json!({"components": {"securitySchemes": schemes}, "security": security});
        let cc = auth(
            &doc(
                json!({"cc": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example/token", "scopes": {"read": "Read"}}}}}),
                json!([{"cc": ["read"]}]),
            ),
            "desk",
        );
        assert!(cc.yaml.contains("type: oauth2-client-credentials"), "{}", cc.yaml);
        assert!(
            cc.yaml.contains("client_secret: \"${env:DESK_CLIENT_SECRET}\""),
            "{}",
            cc.yaml
        );
        assert!(cc.yaml.contains("\"read\": \"Read\""), "{}", cc.yaml);
        assert_eq!(cc.env, ["DESK_CLIENT_ID", "DESK_CLIENT_SECRET"]);

        // The global requirement's scheme first, even when another is declared before it.
        let key = auth(
            &doc(
                json!({"basic": {"type": "http", "scheme": "basic"}, "key": {"type": "apiKey", "in": "query", "name": "api_key"}}),
                json!([{"key": []}]),
            ),
            "desk",
        );
        assert!(
            key.yaml
                .contains("type: api-key, query: \"api_key\", value: \"${env:DESK_API_KEY}\""),
            "{}",
            key.yaml
        );
        let bearer = auth(
            &doc(json!({"b": {"type": "http", "scheme": "Bearer"}}), json!([])),
            "desk",
        );
        assert!(bearer.yaml.contains("type: bearer"), "{}", bearer.yaml);
        let code = auth(
            &doc(
                json!({"o": {"type": "oauth2", "flows": {"authorizationCode": {}}}}),
                json!([]),
            ),
            "desk",
        );
        assert!(code.note.is_some() && code.yaml.contains("DESK_TOKEN"), "{}", code.yaml);
        let none = auth(
            &doc(json!({"b": {"type": "http", "scheme": "basic"}}), json!([])),
            "desk",
        );
        assert!(none.note.is_some_and(|n| n.contains("basic")));
        assert!(!none.yaml.contains("\n    auth:"), "{}", none.yaml);
    }

    #[test]
    fn safe_gets_run_and_everything_else_is_a_template() {
        let op = |id: &str, method: &str, required: &[(&str, &str)], tag: Option<&str>| Op {
            id: id.into(),
            method: method.into(),
            path: format!("/{id}"),
            tag: tag.map(String::from),
            summary: Some(format!("Does {id}\nacross lines")),
            required: required.iter().map(|(n, p)| (n.to_string(), p.to_string())).collect(),
            has_body: method == "POST",
            success: Some(200),
        };
        let ops = vec![
            op("listPets", "GET", &[], Some("pets")),
            op("getPet", "GET", &[("petId", "path")], Some("pets")),
            op("addPet", "POST", &[], Some("pets")),
            op("ping", "GET", &[], None),
        ];
        let f = features("store", "petstore", &ops);
        assert_eq!(
            f.keys().cloned().collect::<Vec<_>>(),
            ["pets.feature", "petstore.feature"]
        );
        let pets = &f["pets.feature"];
        assert!(
            pets.contains("  Scenario: listPets answers as the contract says\n    When I call \"listPets\""),
            "{pets}"
        );
        assert!(
            pets.contains("  # Scenario: getPet\n  #   Given the path parameter \"petId\" is \"...\""),
            "{pets}"
        );
        assert!(pets.contains("  #   When I call \"addPet\" with the body:"), "{pets}");
        assert!(pets.contains("# Does listPets across lines"), "{pets}");
    }
}
