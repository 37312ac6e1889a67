//! Which scenarios a run takes beyond `--tags` and `--name`: with `--partner X`, only those
//! that reach X. A scenario reaches X when its steps name X or one of X's operations
//! (`steps::reach`), or when X's recordings were made by it: what was recorded is what it did.

use std::collections::BTreeSet;

use super::RunError;
use crate::lint::Loaded;
use crate::workspace::Workspace;

pub use crate::steps::reach::Reached;

/// Keeps only the scenarios that reach `partner`; says how many were left out, and how many
/// were kept only because which partner they call cannot be told before they run.
pub fn only_partner(ws: &Workspace, loaded: &mut Loaded, reached: &Reached, partner: &str) -> Result<(), RunError> {
    loaded
        .catalog
        .knows_partner(partner)
        .map_err(|e| RunError::BadInput(format!("--partner {partner}: {e}")))?;
    let recorded = recorded_scenarios(ws, partner);
    let (mut kept, mut dropped, mut unsure) = (0usize, 0usize, 0usize);
    for (path, feature) in loaded.features.iter_mut() {
        let uri = shown(ws, path);
        crate::feature::retain_in(feature, |_, _, s| {
            // Every scenario is in the map; one that is not cannot be said to reach X.
            let Some(sc) = reached.get(&(uri.clone(), s.position.line)) else {
                dropped += 1;
                return false;
            };
            let by_recording = recorded.contains(&sc.id);
            let keep = sc.reach.touches(partner) || by_recording;
            if !keep {
                dropped += 1;
            } else {
                kept += 1;
                if sc.reach.unsure && !by_recording {
                    unsure += 1;
                }
            }
            keep
        });
    }
    eprintln!(
        "--partner {partner}: {kept} scenario(s) reach it, {dropped} left out{}",
        if unsure > 0 {
            format!(
                " ({unsure} kept because they send by method and path to a contract with several partners, \
                 and which one cannot be told before they run)"
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// A feature file as reports show it.
fn shown(ws: &Workspace, path: &std::path::Path) -> String {
    crate::diag::display_path(path, &ws.root).display().to_string()
}

/// The scenarios (by identity) that made the partner's recordings.
fn recorded_scenarios(ws: &Workspace, partner: &str) -> BTreeSet<String> {
    let (items, _) = crate::recording::load_dir(&ws.recordings_dir().join(partner));
    items.into_iter().filter_map(|(_, i)| i.meta.scenario).collect()
}

/// Every scenario's identity and reach (`Reached`).
pub fn reach(ws: &Workspace, loaded: &Loaded) -> Reached {
    crate::steps::reach::of_features(&ws.root, &loaded.features, &loaded.registry, &loaded.catalog)
}

/// The contracts (name, version, file) and what they say of each partner.
pub fn contracts(
    ws: &Workspace,
    loaded: &Loaded,
) -> (
    Vec<crate::report::ContractInfo>,
    std::collections::BTreeMap<String, crate::report::PartnerInfo>,
) {
    let mut infos = Vec::new();
    let mut partners = std::collections::BTreeMap::new();
    for c in loaded.catalog.contracts.values() {
        infos.push(crate::report::ContractInfo {
            name: c.name.clone(),
            version: c.version.clone(),
            file: crate::diag::display_path(&c.file, &ws.root).display().to_string(),
        });
        for (name, p) in &c.partners {
            partners
                .entry(name.clone())
                .or_insert_with(|| crate::report::PartnerInfo {
                    contract: c.name.clone(),
                    contact: p.doc.contact.clone(),
                    live_url: None,
                });
        }
    }
    (infos, partners)
}

/// This machine's slice of the scenarios: `--shard I/N`.
///
/// Every machine must make the same plan from the same input, so the plan is a function of
/// the scenarios' identities (never their order on disk or a clock): scenarios are taken
/// longest first (by the duration the history last saw; unknown ones count as the median),
/// then by partner and identity, and each goes to the shard with the least work so far (the
/// lowest-numbered on a tie). With no history this deals each partner's scenarios round the
/// shards in turn, so no shard carries one partner's whole rate limit. The plan's hash goes
/// into each shard's report, and `report merge` refuses shards planned differently (machines
/// whose history files differ).
pub fn shard(
    ws: &Workspace,
    loaded: &mut Loaded,
    reached: &Reached,
    (index, count): (usize, usize),
    durations: &std::collections::HashMap<String, u64>,
) -> Plan {
    struct Item {
        id: String,
        partner: String,
        ms: u64,
    }
    let mut items = Vec::new();
    for (path, feature) in &loaded.features {
        let uri = shown(ws, path);
        for (_, scenario) in crate::feature::scenarios(feature) {
            let Some(sc) = reached.get(&(uri.clone(), scenario.position.line)) else {
                continue;
            };
            items.push(Item {
                ms: durations.get(&sc.id).copied().unwrap_or(0),
                partner: sc.reach.partners.iter().next().cloned().unwrap_or_default(),
                id: sc.id.clone(),
            });
        }
    }
    let mut known: Vec<u64> = items.iter().map(|i| i.ms).filter(|ms| *ms > 0).collect();
    known.sort_unstable();
    let median = known.get(known.len() / 2).copied().unwrap_or(1).max(1);
    for i in items.iter_mut().filter(|i| i.ms == 0) {
        i.ms = median;
    }
    items.sort_by(|a, b| {
        b.ms.cmp(&a.ms)
            .then_with(|| a.partner.cmp(&b.partner))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut load = vec![0u64; count];
    let mut mine = BTreeSet::new();
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    for item in &items {
        let (target, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(i, l)| (**l, *i))
            .unwrap_or((0, &0));
        load[target] += item.ms;
        sha2::Digest::update(&mut h, item.id.as_bytes());
        sha2::Digest::update(&mut h, [0]);
        sha2::Digest::update(&mut h, (target as u64).to_le_bytes());
        if target + 1 == index {
            mine.insert(item.id.clone());
        }
    }
    for (path, feature) in loaded.features.iter_mut() {
        let uri = shown(ws, path);
        crate::feature::retain_in(feature, |_, _, s| {
            reached
                .get(&(uri.clone(), s.position.line))
                .is_some_and(|sc| mine.contains(&sc.id))
        });
    }
    let hash: String = sha2::Digest::finalize(h)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    eprintln!(
        "shard {index}/{count}: {} of {} scenario(s) (plan {hash}{})",
        mine.len(),
        items.len(),
        if durations.is_empty() {
            ", balanced by partner"
        } else {
            ", balanced by the durations the history knows"
        }
    );
    Plan {
        hash,
        total: items.len(),
    }
}

/// What every shard of one run agrees on.
#[derive(Debug, Clone)]
pub struct Plan {
    pub hash: String,
    /// Scenarios across all shards.
    pub total: usize,
}

/// The durations the history knows, when there is a history file already (a shard never
/// creates one).
pub fn known_durations(ws: &Workspace, history: Option<&std::path::Path>) -> std::collections::HashMap<String, u64> {
    let path = history
        .map(std::path::Path::to_path_buf)
        .or_else(|| ws.config.history.path.as_ref().map(|p| ws.root.join(p)));
    match path.filter(|p| p.is_file()).map(|p| crate::history::History::open(&p)) {
        Some(Ok(h)) => h.durations().unwrap_or_else(|e| {
            eprintln!("warning: {e}; shards balanced by partner only");
            Default::default()
        }),
        Some(Err(e)) => {
            eprintln!("warning: {e}; shards balanced by partner only");
            Default::default()
        }
        None => Default::default(),
    }
}
