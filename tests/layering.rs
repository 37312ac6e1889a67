//! The library's top-level modules depend on each other one way: no cycle, so each layer can be
//! read, tested and changed without the ones above it (docs/architecture.md draws the layers).
//! Read from the source: every `crate::module` a module names outside its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group = regex::Regex::new(r"use crate::\{([^}]*)\}").unwrap();
    let word = regex::Regex::new(r"(?:^|[,{\s])([a-z_]+)(?:::|,|\s|$)").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") || p.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let Some(module) = module_of(&src, &p) else { continue };
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut uses: Vec<String> = path.captures_iter(code).map(|c| c[1].to_string()).collect();
            for g in group.captures_iter(code) {
                uses.extend(word.captures_iter(&g[1]).map(|c| c[1].to_string()));
            }
            let to = graph.entry(module.clone()).or_default();
            to.extend(uses.into_iter().filter(|u| *u != module));
        }
    }
    graph
}

/// A path from `from` back to itself, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(from.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn top_level_modules_have_no_cycle() {
    let graph = edges();
    assert!(graph.len() > 20, "the scan found the modules: {:?}", graph.keys());
    assert!(graph["run"].contains("server"), "the scan sees the edges it should");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "dependency cycles:\n{}", cycles.join("\n"));
}

/// The check itself bites: a graph with a back-edge is caught.
#[test]
fn a_back_edge_is_caught() {
    let mut graph = BTreeMap::new();
    graph.insert("contract".to_string(), BTreeSet::from(["policy".to_string()]));
    graph.insert("policy".to_string(), BTreeSet::from(["contract".to_string()]));
    assert_eq!(
        cycle_through(&graph, "contract"),
        Some(vec!["contract".into(), "policy".into(), "contract".into()])
    );
}
