//! Scenario identity: what ties a recording to the scenario that made it.
//!
//! A recording must keep belonging to its scenario when the feature file is edited around it
//! (a comment added, scenarios reordered, the file moved within features/), and must never
//! answer for another scenario. So the identity is made of what a person would call the
//! scenario — its feature's name, its rule's name, its own name and, for an outline, the values
//! of its Examples row — and never of a line number or a path.
//!
//! What the scenario does (its steps, background included) is hashed separately: when the
//! steps change, the recording is stale — still the scenario's, but made for other steps.

use cucumber::gherkin;
use sha2::{Digest, Sha256};

/// Who a scenario is and what its steps were, as recordings store them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `Feature: Rule: Scenario [key=value, ...]`, and ` #2` on a repeated identical row.
    pub id: String,
    /// The id without that number.
    pub name: String,
    /// A short hash of the steps the scenario runs (background steps first).
    pub steps: String,
}

/// Feature, rule and scenario names, and the outline row's values.
fn name(feature: &gherkin::Feature, rule: Option<&gherkin::Rule>, scenario: &gherkin::Scenario) -> String {
    let mut id = feature.name.trim().to_string();
    if let Some(r) = rule {
        id.push_str(": ");
        id.push_str(r.name.trim());
    }
    id.push_str(": ");
    id.push_str(scenario.name.trim());
    let row: Vec<String> = scenario
        .examples
        .iter()
        .filter_map(|e| e.table.as_ref())
        .filter(|t| t.rows.len() == 2)
        .flat_map(|t| t.rows[0].iter().zip(&t.rows[1]).map(|(k, v)| format!("{k}={v}")))
        .collect();
    if !row.is_empty() {
        id.push_str(&format!(" [{}]", row.join(", ")));
    }
    id
}

/// A short hash of what the scenario does: its steps, background steps first.
fn steps_hash(feature: &gherkin::Feature, rule: Option<&gherkin::Rule>, scenario: &gherkin::Scenario) -> String {
    let mut h = Sha256::new();
    let backgrounds = feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()));
    for step in backgrounds.flat_map(|b| &b.steps).chain(&scenario.steps) {
        h.update(step.value.trim().as_bytes());
        h.update([0]);
        if let Some(d) = &step.docstring {
            h.update(d.as_bytes());
        }
        h.update([0]);
        for row in step.table.iter().flat_map(|t| &t.rows) {
            for cell in row {
                h.update(cell.as_bytes());
                h.update([1]);
            }
            h.update([2]);
        }
        h.update([3]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Scenarios of one feature with the same name but different steps, as (name, first line,
/// line): they would swap recordings if they swapped places. Repeated identical outline rows
/// are no clash: they are numbered.
pub fn clashes(identities: &[(Identity, usize)]) -> Vec<(String, usize, usize)> {
    let mut first: std::collections::HashMap<&str, (&str, usize)> = Default::default();
    let mut out = Vec::new();
    for (i, line) in identities {
        match first.get(i.name.as_str()) {
            Some((steps, at)) if *steps != i.steps => out.push((i.name.clone(), *at, *line)),
            Some(_) => {}
            None => {
                first.insert(&i.name, (&i.steps, *line));
            }
        }
    }
    out
}

/// Every scenario of a feature (its outlines are expanded as it is parsed), with its identity
/// and line.
pub fn all(feature: &gherkin::Feature) -> Vec<(Identity, usize)> {
    of_expanded(feature)
}

/// The identities of a feature whose outlines are expanded already (as cucumber runs it; rows
/// substituted, one Examples table of header and row each), in one pass: identical rows are
/// numbered by their order among themselves (`... [p=high] #2`).
pub fn of_expanded(expanded: &gherkin::Feature) -> Vec<(Identity, usize)> {
    let containers =
        std::iter::once((None, &expanded.scenarios)).chain(expanded.rules.iter().map(|r| (Some(r), &r.scenarios)));
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut out = Vec::new();
    for (rule, scenarios) in containers {
        for s in scenarios {
            let name = name(expanded, rule, s);
            let n = seen.entry(name.clone()).or_default();
            *n += 1;
            let id = if *n > 1 { format!("{name} #{n}") } else { name.clone() };
            let steps = steps_hash(expanded, rule, s);
            out.push((Identity { id, name, steps }, s.position.line));
        }
    }
    out
}

/// A header value carries only visible ASCII: the identity is percent-encoded on its way to
/// the mock server (scenario names are often in the team's own language).
pub fn to_header(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The identity as the mock server receives it.
pub fn from_header(value: &[u8]) -> String {
    let decoded = crate::contract::openapi::percent_decode_bytes(value);
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> gherkin::Feature {
        let parsed = crate::gherkin::parse(text, "t.feature", Default::default()).unwrap();
        crate::feature::to_cucumber(&parsed.document.feature.unwrap(), std::path::Path::new("t.feature"))
    }

    const FEATURE: &str = "Feature: Tickets\n  Background:\n    Given the contract \"c\"\n\n  Scenario: Create\n    When I call \"createTicket\"\n\n  Rule: Escalation\n    Scenario Outline: Escalate <p>\n      When I escalate \"<p>\"\n      Examples:\n        | p    |\n        | high |\n        | low  |\n";

    #[test]
    fn identity_is_names_and_row_values_not_lines() {
        let ids: Vec<String> = all(&parse(FEATURE)).into_iter().map(|(i, _)| i.id).collect();
        assert_eq!(
            ids,
            [
                "Tickets: Create",
                "Tickets: Escalation: Escalate high [p=high]",
                "Tickets: Escalation: Escalate low [p=low]"
            ]
        );
        // A comment and a blank line before everything: the same identities and steps.
        let moved = all(&parse(&format!("# a comment\n\n{FEATURE}")));
        assert_eq!(
            all(&parse(FEATURE)).into_iter().map(|(i, _)| i).collect::<Vec<_>>(),
            moved.into_iter().map(|(i, _)| i).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_steps_hash_changes_with_the_steps_and_the_background() {
        let base = all(&parse(FEATURE));
        let step = all(&parse(&FEATURE.replace("createTicket", "createIncident")));
        assert_ne!(base[0].0.steps, step[0].0.steps);
        assert_eq!(base[1].0.steps, step[1].0.steps);
        let background = all(&parse(&FEATURE.replace("the contract \"c\"", "the contract \"d\"")));
        assert!(base.iter().zip(&background).all(|(a, b)| a.0.steps != b.0.steps));
        // The keyword is not what a step does.
        let keyword = all(&parse(&FEATURE.replace("When I call", "And I call")));
        assert_eq!(base[0].0.steps, keyword[0].0.steps);
    }

    #[test]
    fn repeated_identical_rows_are_numbered_and_different_steps_clash() {
        let f = "Feature: F\n  Scenario Outline: o\n    When I call \"<x>\"\n    Examples:\n      | x |\n      | a |\n      | b |\n      | a |\n";
        let ids: Vec<String> = all(&parse(f)).into_iter().map(|(i, _)| i.id).collect();
        assert_eq!(ids, ["F: o [x=a]", "F: o [x=b]", "F: o [x=a] #2"]);
        assert!(clashes(&all(&parse(f))).is_empty());
        let two = "Feature: F\n  Scenario: s\n    When I call \"a\"\n  Scenario: s\n    When I call \"b\"\n";
        assert_eq!(clashes(&all(&parse(two))), [("F: s".to_string(), 2, 4)]);
    }

    #[test]
    fn header_values_round_trip_any_language() {
        for id in ["Tickets: Create", "Billets : créer 100% [p=élevée]", "チケット"] {
            let h = to_header(id);
            assert!(h.bytes().all(|b| (0x20..0x7f).contains(&b)), "{h}");
            assert_eq!(from_header(h.as_bytes()), id);
        }
        assert_eq!(from_header(b"%zz%4"), "%zz%4");
    }
}
