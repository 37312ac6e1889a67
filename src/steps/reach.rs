//! Which partners a scenario talks to, read from its steps before it runs: for `--partner X`
//! (run only what touches X), for the report's partner rows (a failed scenario turns its
//! partners red) and for sharding by partner.
//!
//! The steps are looked up in the registry and declarative steps are followed down to the
//! built-in ones, with their parameters put in. A literal argument that is a partner's name
//! (`the partner "ticketing"`, `"ticketing" sends the ... webhook`) or an operation id of a
//! partner (`I call "createTicket"`) names that partner. A scenario that sends by method and
//! path only names nobody; it reaches the contract's only partner when there is one, and
//! otherwise every partner of its contracts, marked `unsure`, so a filter keeps rather than
//! drops it.

use std::collections::{BTreeMap, BTreeSet};

use super::registry::{Lookup, Registry, StepBody};
use crate::contract::Catalog;

/// The partners a scenario reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub partners: BTreeSet<String>,
    /// No step names a partner: `partners` are all those it might reach.
    pub unsure: bool,
}

impl Reach {
    pub fn touches(&self, partner: &str) -> bool {
        self.partners.contains(partner)
    }
}

/// Each scenario's identity and the partners it reaches, by (feature file as shown, line):
/// worked out once, for `--partner`, `--shard`, the report's rows and a partner's bundle.
pub type Reached = std::collections::HashMap<(String, usize), Scenario>;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: String,
    pub reach: Reach,
}

/// Every scenario of `features` (outlines expanded), with its identity and its reach; files
/// are named as reports show them (relative to `root`).
pub fn of_features(
    root: &std::path::Path,
    features: &[(std::path::PathBuf, cucumber::gherkin::Feature)],
    registry: &Registry,
    catalog: &Catalog,
) -> Reached {
    let mut out = Reached::new();
    for (path, feature) in features {
        let uri = crate::diag::display_path(path, root).display().to_string();
        let ids: std::collections::HashMap<usize, String> = crate::scenario::of_expanded(feature)
            .into_iter()
            .map(|(identity, line)| (line, identity.id))
            .collect();
        for (rule, scenario) in crate::feature::scenarios(feature) {
            let reach = of_steps(registry, catalog, crate::feature::step_texts(feature, rule, scenario));
            let line = scenario.position.line;
            let id = ids
                .get(&line)
                .cloned()
                .unwrap_or_else(|| format!("{}: {}", feature.name, scenario.name));
            out.insert((uri.clone(), line), Scenario { id, reach });
        }
    }
    out
}

/// Followed at most this deep: declarative steps that call each other in a loop are refused
/// by lint, but a reach must never spin on them.
const MAX_DEPTH: usize = 16;

/// The partners reached by these step texts (background steps included).
pub fn of_steps<'a>(registry: &Registry, catalog: &Catalog, steps: impl IntoIterator<Item = &'a str>) -> Reach {
    let mut walk = Walk::default();
    for text in steps {
        walk.step(registry, text, &BTreeMap::new(), 0);
    }
    let words = walk.words;
    // Contracts the scenario names, else all of them.
    let named: Vec<_> = catalog.contracts.values().filter(|c| words.contains(&c.name)).collect();
    let contracts: Vec<_> = if named.is_empty() {
        catalog.contracts.values().collect()
    } else {
        named
    };
    let mut partners = BTreeSet::new();
    for c in &contracts {
        for (name, p) in &c.partners {
            if words.contains(name) || p.operations.iter().any(|o| words.contains(&o.id)) {
                partners.insert(name.clone());
            }
        }
    }
    if !partners.is_empty() {
        return Reach {
            partners,
            unsure: false,
        };
    }
    let all: BTreeSet<String> = contracts.iter().flat_map(|c| c.partners.keys().cloned()).collect();
    Reach {
        unsure: all.len() != 1,
        partners: all,
    }
}

/// The registry's definitions these step texts use, declarative steps followed down (for a
/// bundle: the declarative steps its scenarios need, and no others).
pub fn definitions<'a>(registry: &Registry, steps: impl IntoIterator<Item = &'a str>) -> BTreeSet<usize> {
    let mut walk = Walk::default();
    for text in steps {
        walk.step(registry, text, &BTreeMap::new(), 0);
    }
    walk.definitions
}

/// What a walk down the steps met.
#[derive(Default)]
struct Walk {
    /// Every literal argument, with a declarative step's own parameters put in (`${name}`).
    words: BTreeSet<String>,
    /// The definitions used, by registry index.
    definitions: BTreeSet<usize>,
}

impl Walk {
    fn step(&mut self, registry: &Registry, text: &str, params: &BTreeMap<String, String>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let text = put_in(text, params);
        let Lookup::Found(step) = registry.lookup(&text) else {
            return;
        };
        self.definitions.insert(step.index);
        let def = registry.get(step.index);
        for a in &step.raw_args {
            if !a.contains("${") {
                self.words.insert(a.clone());
            }
        }
        if let StepBody::Macro(m) = &def.body {
            let inner: BTreeMap<String, String> = def
                .phrase
                .params
                .iter()
                .zip(&step.raw_args)
                .map(|(p, v)| (p.name.clone(), v.clone()))
                .collect();
            for sub in m.sub_steps() {
                self.step(registry, &sub.text, &inner, depth + 1);
            }
        }
    }
}

/// `${name}` replaced by the declarative step's argument (others left as written).
fn put_in(text: &str, params: &BTreeMap<String, String>) -> String {
    let mut s = text.to_string();
    for (k, v) in params {
        s = s.replace(&format!("${{{k}}}"), v);
    }
    s
}
