//! `contrail.toml` checked against itself and the contracts before anything starts: an empty
//! command, a duration that does not parse, `{services.nosuch.url}`, a partner no contract
//! names (a typo), a placeholder nobody fills. Each is bad input (exit 2) naming the file and
//! line, found by `lint` and by the run's pre-flight, never a harness error half-way through a
//! run.

use std::collections::BTreeSet;

use crate::contract::Catalog;
use crate::diag::{Diagnostic, Diagnostics};
use crate::workspace::Workspace;

/// Every problem of the workspace's `contrail.toml` (none without one).
pub fn check(ws: &Workspace, catalog: &Catalog) -> Diagnostics {
    let mut out = Diagnostics::default();
    let Some(file) = &ws.file else {
        return out;
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let c = &ws.config;
    let mut problem = |needle: &str, message: String| {
        out.push(Diagnostic::new(file, message).at(line_of(&text, needle), 1));
    };
    let partners: BTreeSet<&str> = catalog
        .contracts
        .values()
        .flat_map(|c| c.partners.keys().map(String::as_str))
        .collect();
    let services: BTreeSet<&str> = c.services.keys().map(String::as_str).collect();

    let duration = |what: &str, value: &Option<String>| -> Option<String> {
        let v = value.as_ref()?;
        match humantime::parse_duration(v) {
            Ok(d) if d.is_zero() => Some(format!("{what} {v:?} must be longer than 0")),
            Ok(_) => None,
            Err(e) => Some(format!("{what} {v:?} is not a duration (say \"10s\" or \"2m\"): {e}")),
        }
    };
    if let Some(t) = c.run.target.as_deref()
        && !["replay", "live", "record"].contains(&t)
    {
        problem(
            "target",
            format!("[run] target = {t:?}: expected \"replay\", \"live\" or \"record\""),
        );
    }
    if let Some(m) = duration("[run] request_timeout", &c.run.request_timeout) {
        problem("request_timeout", m);
    }
    if let Err(m) = crate::server::Limits::from_config(&c.mock) {
        problem("[mock]", m);
    }
    let mock_tls = crate::server::tls::ServeTls::from_config(&c.mock, &ws.root);
    if let Err(m) = &mock_tls {
        problem("[mock]", m.clone());
    }
    // `{mock.ca}` is filled only when the mocks serve HTTPS from a CA contrail knows.
    let mock_ca = match mock_tls {
        Ok(Some(crate::server::tls::ServeTls::Generated { .. })) => true,
        Ok(Some(crate::server::tls::ServeTls::Given { ca, .. })) => ca.is_some(),
        _ => false,
    };

    for (name, p) in &c.partners {
        if !partners.contains(name.as_str()) {
            let close = closest(name, partners.iter().copied());
            problem(
                &format!("[partners.{name}]"),
                format!(
                    "[partners.{name}]: no contract has a partner {name:?}{}",
                    close.map(|c| format!("; did you mean {c:?}?")).unwrap_or_default()
                ),
            );
        }
        if let Some(live) = &p.live {
            for m in placeholders(live, &["services."], &services, &BTreeSet::new()) {
                problem(live, format!("[partners.{name}] live: {m}"));
            }
        }
    }
    for (name, s) in &c.services {
        if s.command.is_empty() || s.command[0].trim().is_empty() {
            problem(
                &format!("[services.{name}]"),
                format!("[services.{name}]: `command` is empty"),
            );
        }
        if let Some(m) = duration(&format!("[services.{name}] ready_timeout"), &s.ready_timeout) {
            problem(&format!("[services.{name}]"), m);
        }
        for arg in s.command.iter().chain(s.env.values()) {
            for m in placeholders(arg, &[], &services, &BTreeSet::new()) {
                problem(arg, format!("[services.{name}]: {m}"));
            }
        }
    }
    if let Some(sut) = &c.sut {
        if sut.command.is_empty() || sut.command[0].trim().is_empty() {
            problem("[sut]", "[sut]: `command` is empty".into());
        }
        if let Some(m) = duration("[sut] ready_timeout", &sut.ready_timeout) {
            problem("[sut]", m);
        }
        for arg in sut.command.iter().chain(sut.env.values()) {
            let allowed: &[&str] = if mock_ca {
                &["partners.", "mock."]
            } else {
                &["partners."]
            };
            for m in placeholders(arg, allowed, &BTreeSet::new(), &partners) {
                problem(arg, format!("[sut]: {m}"));
            }
        }
        for partner in sut.webhooks.keys() {
            if !partners.contains(partner.as_str()) {
                problem(
                    "[sut.webhooks]",
                    format!("[sut.webhooks] {partner}: no contract has a partner {partner:?}"),
                );
            }
        }
    }
    out
}

/// What is wrong with the `{...}` placeholders of `text`. `{port}` and `{url}` are always
/// known; `{services.NAME.url}` and `{partners.NAME.url|token_url}` where `allowed` says.
fn placeholders(text: &str, allowed: &[&str], services: &BTreeSet<&str>, partners: &BTreeSet<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        rest = &after[close + 1..];
        if matches!(name, "port" | "url") {
            continue;
        }
        let parts: Vec<&str> = name.split('.').collect();
        let ok = match parts.as_slice() {
            ["services", s, "url"] if allowed.contains(&"services.") => services.contains(s),
            ["partners", p, "url" | "token_url"] if allowed.contains(&"partners.") => partners.contains(p),
            ["mock", "ca"] => allowed.contains(&"mock."),
            _ => false,
        };
        if !ok && name == "mock.ca" {
            out.push(
                "{mock.ca} is the CA file of the mocks' HTTPS certificate, and they serve plain HTTP: set \
                 [mock] https = true (or tls_cert, tls_key and tls_ca)"
                    .into(),
            );
        } else if !ok {
            let known: Vec<String> = ["{port}", "{url}"]
                .into_iter()
                .map(String::from)
                .chain(
                    allowed
                        .contains(&"services.")
                        .then(|| services.iter().map(|s| format!("{{services.{s}.url}}")))
                        .into_iter()
                        .flatten(),
                )
                .chain(
                    allowed
                        .contains(&"partners.")
                        .then(|| partners.iter().map(|p| format!("{{partners.{p}.url}}")))
                        .into_iter()
                        .flatten(),
                )
                .chain(allowed.contains(&"mock.").then(|| "{mock.ca}".to_string()))
                .collect();
            out.push(format!("{{{name}}} is not known here (known: {})", known.join(", ")));
        }
    }
    out
}

/// The line (1-based) of the first line holding `needle`, else 1.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1)
}

fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}
