//! `contrail steps`: the vocabulary, printed from the registry the runner uses.

use serde_json::json;

use crate::exit::Exit;
use crate::matching::marker::MARKERS;
use crate::steps::registry::{Attachment, Origin};
use crate::steps::{builtin_registry, declarative};
use crate::workspace::Workspace;

pub fn print(ws: &Workspace, as_json: bool) -> Exit {
    let mut registry = builtin_registry();
    let errors = declarative::load_into(&mut registry, &ws.steps_dir());
    if !errors.is_empty() {
        eprintln!("{errors}");
        eprintln!("(the declarative steps above could not be loaded; showing the rest)");
    }
    if as_json {
        let steps: Vec<_> = registry
            .defs()
            .iter()
            .map(|d| {
                json!({
                    "phrase": d.phrase.text,
                    "group": d.group,
                    "parameters": d.phrase.params.iter().map(|p| json!({"name": p.name, "type": p.kind.name()})).collect::<Vec<_>>(),
                    "takes": match d.attachment { Attachment::None => "nothing", Attachment::DocString => "doc string", Attachment::Table => "table" },
                    "summary": d.summary,
                    "example": d.example,
                    "origin": match &d.origin { Origin::Builtin => "built-in".to_string(), Origin::File { path, line } => format!("{}:{line}", crate::diag::display_path(path, &ws.root).display()) },
                })
            })
            .collect();
        let markers: Vec<_> = MARKERS
            .iter()
            .map(|(m, d)| json!({"marker": m, "meaning": d}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"steps": steps, "markers": markers})).unwrap_or_default()
        );
        return if errors.is_empty() {
            Exit::Passed
        } else {
            Exit::BadInput
        };
    }
    let mut group = String::new();
    for d in registry.defs() {
        if d.group != group {
            group = d.group.clone();
            println!("\n## {group}");
        }
        let takes = match d.attachment {
            Attachment::None => "",
            Attachment::DocString => "  (+ doc string)",
            Attachment::Table => "  (+ table)",
        };
        println!("\n  {}{takes}", d.phrase.text);
        println!("      {}", d.summary);
        println!("      e.g. {}", d.example);
        if let Origin::File { path, line } = &d.origin {
            println!(
                "      from {}:{line}",
                crate::diag::display_path(path, &ws.root).display()
            );
        }
    }
    println!("\n## markers (in expected JSON and values)\n");
    for (m, meaning) in MARKERS {
        println!("  {m:<12} {meaning}");
    }
    if errors.is_empty() {
        Exit::Passed
    } else {
        Exit::BadInput
    }
}
