//! A contract cut down to what one partner must honour: that partner's section, its objects,
//! the mappings between them, the webhooks it sends, and the redaction and field policy that
//! judge its answers. Other partners' sections go, and so does what only concerns the
//! consumer (the end-to-end latency, its own failure behaviour, the direction of the flow).
//!
//! Credentials are the partner's own in `verify`: every credential becomes `${env:NAME}` with
//! no default, so the consumer's test defaults never travel, and a literal credential becomes
//! a named variable. The names are returned for the manifest.

use std::collections::BTreeSet;

use crate::tree::Tree;

/// Auth fields that carry a credential.
const CREDENTIAL_FIELDS: [&str; 4] = ["client_id", "client_secret", "token", "value"];

pub struct Reduced {
    pub contract: Tree,
    /// Environment variables the credentials are read from.
    pub credentials: BTreeSet<String>,
}

/// `doc` (the contract as written) reduced to `partner`, whose operations are `operations`.
pub fn reduce(mut doc: Tree, partner: &str, operations: &BTreeSet<String>) -> Reduced {
    let mut credentials = BTreeSet::new();
    if let Some(partners) = doc.get_mut("partners") {
        partners.retain_entries(|name, _| name == partner);
        if let Some(auth) = partners.get_mut(partner).and_then(|p| p.get_mut("auth"))
            && let Tree::Map(fields) = auth
        {
            for (key, value) in fields.iter_mut() {
                if CREDENTIAL_FIELDS.contains(&key.as_str())
                    && let Tree::Str(text) = value
                {
                    *text = without_defaults(text, &crate::interpolate::env_var_name(partner, key), &mut credentials);
                }
            }
        }
    }
    // Objects of this partner; mappings only between them.
    let mut objects = BTreeSet::new();
    if let Some(o) = doc.get_mut("objects") {
        o.retain_entries(|_, obj| obj.get("partner").and_then(Tree::as_str) == Some(partner));
        if let Tree::Map(entries) = o {
            objects.extend(entries.iter().map(|(k, _)| k.clone()));
        }
    }
    if let Some(m) = doc.get_mut("mappings") {
        let object_of = |t: Option<&Tree>| {
            t.and_then(Tree::as_str)
                .and_then(|s| s.split('.').next())
                .map(str::to_string)
        };
        m.retain_entries(|_, mapping| {
            [mapping.get("from"), mapping.get("to")]
                .into_iter()
                .all(|end| object_of(end).is_some_and(|o| objects.contains(&o)))
        });
    }
    if let Some(w) = doc.get_mut("webhooks") {
        w.retain_entries(|_, hook| hook.get("from").and_then(Tree::as_str) == Some(partner));
        if let Tree::Map(hooks) = w {
            for (event, hook) in hooks.iter_mut() {
                if let Some(Tree::Str(secret)) = hook.get_mut("signature").and_then(|s| s.get_mut("secret")) {
                    let fallback = crate::interpolate::env_var_name(partner, &format!("{event}_webhook_secret"));
                    *secret = without_defaults(secret, &fallback, &mut credentials);
                }
            }
        }
    }
    // Rules scoped to another partner's operation say nothing about this one.
    if let Some(p) = doc.get_mut("policy") {
        p.retain_items(|rule| {
            rule.get("operation")
                .and_then(Tree::as_str)
                .is_none_or(|op| operations.contains(op))
        });
    }
    for consumer_only in ["direction", "latency", "failure"] {
        doc.remove(consumer_only);
    }
    Reduced {
        contract: doc,
        credentials,
    }
}

/// Every `${env:NAME:-default}` as `${env:NAME}`; a value with no environment reference at all
/// (a literal credential) becomes `${env:FALLBACK}`.
fn without_defaults(text: &str, fallback: &str, names: &mut BTreeSet<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut found = false;
    while let Some(i) = rest.find("${env:") {
        let Some(close) = rest[i..].find('}') else { break };
        let inner = &rest[i + 6..i + close];
        let name = inner.split(":-").next().unwrap_or(inner).trim();
        out.push_str(&rest[..i]);
        out.push_str(&format!("${{env:{name}}}"));
        names.insert(name.to_string());
        found = true;
        rest = &rest[i + close + 1..];
    }
    if !found {
        names.insert(fallback.to_string());
        return format!("${{env:{fallback}}}");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Tree {
        crate::yaml::from_yaml(std::path::Path::new("c.yaml"), text).unwrap()
    }

    const TWO_PARTNERS: &str = r#"
contract: c
version: "1"
direction: desk -> pager
partners:
  desk:
    openapi: openapi/desk.yaml
    auth: { type: oauth2-client-credentials, token_url: /t, client_id: "${env:DESK_ID:-qa}", client_secret: "${env:DESK_SECRET:-qa-secret}" }
  pager:
    openapi: openapi/pager.yaml
    auth: { type: bearer, token: "${env:PAGER_TOKEN:-abc}" }
objects:
  ticket: { partner: desk, fields: { priority: { type: string } } }
  page: { partner: pager, fields: { level: { type: integer } } }
mappings:
  p2l: { from: ticket.priority, to: page.level, values: { low: 3 } }
webhooks:
  ticket.escalated: { from: desk, signature: { style: stripe, secret: whsec_literal } }
  page.acked: { from: pager }
latency: { budget: 60s }
redact:
  - header: X-Token
policy:
  - body: created_at
    action: volatile
  - body: level
    action: ignore
    operation: getPage
  - body: title
    action: ignore
    operation: getTicket
"#;

    #[test]
    fn only_the_partner_and_what_judges_it_remain_and_no_credential_value_travels() {
        let ops = BTreeSet::from(["getTicket".to_string()]);
        let r = reduce(tree(TWO_PARTNERS), "desk", &ops);
        let yaml = r.contract.to_yaml().unwrap();
        for gone in [
            "pager",
            "page",
            "p2l",
            "qa-secret",
            "whsec_literal",
            "direction",
            "latency",
            "getPage",
        ] {
            assert!(!yaml.contains(gone), "{gone} is still there:\n{yaml}");
        }
        for kept in [
            "openapi/desk.yaml",
            "ticket.escalated",
            "X-Token",
            "created_at",
            "getTicket",
        ] {
            assert!(yaml.contains(kept), "{kept} is missing:\n{yaml}");
        }
        assert!(yaml.contains("client_secret: ${env:DESK_SECRET}"), "{yaml}");
        assert_eq!(
            r.credentials,
            BTreeSet::from([
                "DESK_ID".to_string(),
                "DESK_SECRET".to_string(),
                "DESK_TICKET_ESCALATED_WEBHOOK_SECRET".to_string()
            ])
        );
        // What is left still loads as a contract.
        let loaded: crate::contract::model::ContractDoc =
            crate::yaml::from_yaml(std::path::Path::new("c.yaml"), &yaml).unwrap();
        assert_eq!(loaded.partners.len(), 1);
    }
}
