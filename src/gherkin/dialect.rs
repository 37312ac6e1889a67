//! Gherkin's keywords in every language it is written in: the official keyword list
//! (`gherkin-languages.json`, MIT, see LICENSE-gherkin-languages beside it), read once.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// What a step keyword says about its step (a Cucumber message's `keywordType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordType {
    Context,
    Action,
    Outcome,
    Conjunction,
    /// A keyword of several kinds at once (`* `).
    Unknown,
}

impl KeywordType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeywordType::Context => "Context",
            KeywordType::Action => "Action",
            KeywordType::Outcome => "Outcome",
            KeywordType::Conjunction => "Conjunction",
            KeywordType::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    and: Vec<String>,
    background: Vec<String>,
    but: Vec<String>,
    examples: Vec<String>,
    feature: Vec<String>,
    given: Vec<String>,
    rule: Vec<String>,
    scenario: Vec<String>,
    scenario_outline: Vec<String>,
    then: Vec<String>,
    when: Vec<String>,
}

/// One language's keywords. Step keywords carry their trailing space where the language
/// writes one (`Given `) and none where it does not (`假如`).
#[derive(Debug)]
pub struct Dialect {
    pub code: String,
    pub feature: Vec<String>,
    pub rule: Vec<String>,
    pub background: Vec<String>,
    /// Scenario keywords first, then Scenario Outline keywords: both start a scenario.
    pub scenario: Vec<String>,
    pub examples: Vec<String>,
    /// Every step keyword with every kind it has, longest first (so `Sipoze ke ` wins over
    /// `Sipoze `), keywords of equal length in the list's order.
    pub steps: Vec<(String, Vec<KeywordType>)>,
}

impl Dialect {
    fn from_raw(code: &str, raw: Raw) -> Dialect {
        let mut kinds: Vec<(String, Vec<KeywordType>)> = Vec::new();
        let mut add = |words: &[String], kind: KeywordType| {
            for w in words {
                match kinds.iter_mut().find(|(k, _)| k == w) {
                    Some((_, ks)) => ks.push(kind),
                    None => kinds.push((w.clone(), vec![kind])),
                }
            }
        };
        add(&raw.given, KeywordType::Context);
        add(&raw.when, KeywordType::Action);
        add(&raw.then, KeywordType::Outcome);
        add(&raw.and, KeywordType::Conjunction);
        add(&raw.but, KeywordType::Conjunction);
        // A stable sort: equal lengths keep the order given, when, then, and, but.
        kinds.sort_by_key(|(k, _)| std::cmp::Reverse(k.chars().count()));
        let mut scenario = raw.scenario;
        scenario.extend(raw.scenario_outline);
        Dialect {
            code: code.to_string(),
            feature: raw.feature,
            rule: raw.rule,
            background: raw.background,
            scenario,
            examples: raw.examples,
            steps: kinds,
        }
    }

    /// The keyword's type as the message protocol names it: its kind when it has one,
    /// `Unknown` when it has several (`* ` is every kind at once).
    pub fn step_type(kinds: &[KeywordType]) -> KeywordType {
        match kinds {
            [one] => *one,
            _ => KeywordType::Unknown,
        }
    }
}

fn all() -> &'static BTreeMap<String, Dialect> {
    static ALL: OnceLock<BTreeMap<String, Dialect>> = OnceLock::new();
    ALL.get_or_init(|| {
        // The file is part of the build; a broken copy fails every parse test at once.
        let raw: BTreeMap<String, Raw> =
            serde_json::from_str(include_str!("gherkin-languages.json")).unwrap_or_default();
        raw.into_iter()
            .map(|(code, r)| {
                let d = Dialect::from_raw(&code, r);
                (code, d)
            })
            .collect()
    })
}

/// The language with this code (`en`, `fr`, `ht`, `en-pirate`), if Gherkin has it.
pub fn dialect(code: &str) -> Option<&'static Dialect> {
    all().get(code)
}

/// Every language code, for messages that list them.
pub fn codes() -> impl Iterator<Item = &'static str> {
    all().keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_loads_with_its_keywords() {
        assert!(codes().count() >= 70, "{}", codes().count());
        let en = dialect("en").expect("en");
        assert!(en.feature.contains(&"Feature".to_string()));
        let star = en.steps.iter().find(|(k, _)| k == "* ").expect("* ");
        assert_eq!(Dialect::step_type(&star.1), KeywordType::Unknown);
        let ht = dialect("ht").expect("ht");
        let first_sipoze = ht.steps.iter().position(|(k, _)| k.starts_with("Sipoze")).unwrap();
        assert_eq!(ht.steps[first_sipoze].0, "Sipoze ke ", "longest keyword first");
    }
}
