//! Declarative steps: domain phrases QA writes in `steps/*.yaml`, each expanding to a list of
//! built-in (or other declarative) steps. No Rust needed.
//!
//! ```yaml
//! steps:
//!   - phrase: a {priority} ticket is escalated
//!     summary: Creates a ticket with this priority and escalates it.
//!     do:
//!       - the request body has the fields:
//!         ...
//! ```
//! Parameters are written `{name}` (a quoted string in the feature), `{n:int}`, `{w:word}` or
//! `{v:value}`, and used as `${name}` inside the expansion. A phrase that takes a doc string
//! (`docstring: true`) gets it as `${docstring}`; one that takes a data table (`table: true`)
//! passes it on whole (`table: ${table}` on a sub-step), gets it as JSON (`${table}`: an array
//! of objects keyed by the header row), or runs steps once per row (`each row:`, with
//! `${row.COLUMN}`). Every expansion is resolved when the file loads: a sub-step that matches
//! nothing, or a cycle between declarative steps, is an error with file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::phrase::Phrase;
use super::registry::{
    Attachment, Lookup, MacroDef, MacroItem, Origin, Registry, StepBody, StepDef, SubStep, TableArg, strip_keyword,
};
use crate::diag::{Diagnostic, Diagnostics};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    steps: Vec<MacroDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MacroDoc {
    phrase: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    example: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// Whether the phrase takes a doc string (passed on as `${docstring}`).
    #[serde(default)]
    docstring: bool,
    /// Whether the phrase takes a data table (`table: ${table}`, `${table}`, `each row:`).
    #[serde(default)]
    table: bool,
    #[serde(rename = "do")]
    expansion: Vec<SubStepDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SubStepDoc {
    Text(String),
    Full {
        step: String,
        #[serde(default)]
        docstring: Option<String>,
        #[serde(default)]
        table: Option<TableDoc>,
    },
    EachRow {
        #[serde(rename = "each row")]
        each_row: Vec<SubStepDoc>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TableDoc {
    Rows(Vec<Vec<String>>),
    /// `${table}`: the declarative step's own table.
    Passed(String),
}

/// Step files directly under `dir`, sorted.
pub fn step_files(dir: &Path) -> Vec<PathBuf> {
    crate::workspace::files_in(dir, &["yaml", "yml"])
}

/// 1-based line of the first occurrence of `needle` in `text` (1 when not found).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|i| text[..i].matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Adds the declarative steps found in `dir` to `registry`.
pub fn load_into(registry: &mut Registry, dir: &Path) -> Diagnostics {
    let mut errors = Diagnostics::default();
    // (definition index, file, file text, sub-steps) resolved once all phrases are known.
    let mut pending: Vec<(usize, PathBuf, String, Vec<SubStepDoc>)> = Vec::new();
    for file in step_files(dir) {
        let text = match crate::yaml::read(&file) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let doc: StepFile = match crate::yaml::from_yaml(&file, &text) {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for m in doc.steps {
            let line = line_of(&text, &m.phrase);
            let phrase = match Phrase::parse(&m.phrase) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(Diagnostic::new(&file, e).at(line, 1));
                    continue;
                }
            };
            if let Lookup::Found(existing) = registry.lookup(&sample_text(&phrase)) {
                let other = registry.get(existing.index);
                errors.push(
                    Diagnostic::new(
                        &file,
                        format!(
                            "the phrase {:?} collides with {:?} ({})",
                            m.phrase,
                            other.phrase.text,
                            origin_text(&other.origin)
                        ),
                    )
                    .at(line, 1),
                );
                continue;
            }
            let example = m.example.clone().unwrap_or_else(|| sample_text(&phrase));
            let idx = registry.push(StepDef {
                phrase,
                group: m.group.clone().unwrap_or_else(|| "project".into()),
                summary: m.summary.clone().unwrap_or_else(|| "(declarative step)".into()),
                example,
                attachment: match (m.docstring, m.table) {
                    (true, true) => {
                        errors.push(
                            Diagnostic::new(
                                &file,
                                format!("the phrase {:?} takes a doc string or a table, not both", m.phrase),
                            )
                            .at(line, 1),
                        );
                        continue;
                    }
                    (true, false) => Attachment::DocString,
                    (false, true) => Attachment::Table,
                    (false, false) => Attachment::None,
                },
                body: StepBody::Macro(MacroDef { steps: Vec::new() }),
                origin: Origin::File {
                    path: file.clone(),
                    line,
                },
            });
            pending.push((idx, file.clone(), text.clone(), m.expansion));
        }
    }
    for (idx, file, text, subs) in pending {
        let takes_table = registry.get(idx).attachment == Attachment::Table;
        let mut items = Vec::new();
        for sub in subs {
            match sub {
                SubStepDoc::EachRow { each_row } => {
                    let line = line_of(&text, "each row");
                    if !takes_table {
                        errors.push(
                            Diagnostic::new(
                                &file,
                                "`each row:` needs a phrase that takes a table (add `table: true`)",
                            )
                            .at(line, 1),
                        );
                    }
                    let mut steps = Vec::new();
                    for inner in each_row {
                        if matches!(inner, SubStepDoc::EachRow { .. }) {
                            errors.push(
                                Diagnostic::new(&file, "`each row:` inside `each row:` is not supported").at(line, 1),
                            );
                            continue;
                        }
                        if let Some(s) = resolve(registry, &file, &text, inner, takes_table, &mut errors) {
                            steps.push(s);
                        }
                    }
                    items.push(MacroItem::EachRow(steps));
                }
                other => {
                    if let Some(s) = resolve(registry, &file, &text, other, takes_table, &mut errors) {
                        items.push(MacroItem::Step(s));
                    }
                }
            }
        }
        if let StepBody::Macro(m) = &mut registry.get_mut(idx).body {
            m.steps = items;
        }
    }
    errors.extend(find_cycles(registry));
    errors
}

/// One expansion entry, looked up; `None` (with the error recorded) when it matches nothing.
fn resolve(
    registry: &Registry,
    file: &Path,
    text: &str,
    sub: SubStepDoc,
    takes_table: bool,
    errors: &mut Diagnostics,
) -> Option<SubStep> {
    let (raw, docstring, table) = match sub {
        SubStepDoc::Text(t) => (t, None, None),
        SubStepDoc::Full { step, docstring, table } => (step, docstring, table),
        SubStepDoc::EachRow { .. } => return None,
    };
    let line = line_of(text, &raw);
    let table = match table {
        None => None,
        Some(TableDoc::Rows(rows)) => Some(TableArg::Rows(rows)),
        Some(TableDoc::Passed(s)) if s.trim() == "${table}" => {
            if !takes_table {
                errors.push(
                    Diagnostic::new(
                        file,
                        "`table: ${table}` needs a phrase that takes a table (add `table: true`)",
                    )
                    .at(line, 1),
                );
            }
            Some(TableArg::Passed)
        }
        Some(TableDoc::Passed(s)) => {
            errors.push(
                Diagnostic::new(
                    file,
                    format!("`table:` is a list of rows or `${{table}}` (the phrase's own table), not {s:?}"),
                )
                .at(line, 1),
            );
            return None;
        }
    };
    let stripped = strip_keyword(&raw).to_string();
    match registry.lookup(&stripped) {
        Lookup::Found(step) => {
            let def = registry.get(step.index);
            let has = match def.attachment {
                Attachment::DocString => docstring.is_some(),
                Attachment::Table => table.is_some(),
                Attachment::None => true,
            };
            if !has {
                errors.push(
                    Diagnostic::new(
                        file,
                        format!(
                            "{stripped:?} needs a {} (add `docstring:` or `table:` to this entry)",
                            if def.attachment == Attachment::Table {
                                "table"
                            } else {
                                "doc string"
                            }
                        ),
                    )
                    .at(line, 1),
                );
            }
            Some(SubStep {
                text: stripped,
                step,
                docstring,
                table,
            })
        }
        Lookup::Undefined { suggestion } => {
            let mut d =
                Diagnostic::new(file, format!("the expansion step {stripped:?} matches no known step")).at(line, 1);
            if let Some(s) = suggestion {
                d = d.help(format!("did you mean: {s}"));
            }
            errors.push(d);
            None
        }
        Lookup::Ambiguous(phrases) => {
            errors.push(
                Diagnostic::new(
                    file,
                    format!(
                        "the expansion step {stripped:?} matches several steps: {}",
                        phrases.join(" | ")
                    ),
                )
                .at(line, 1),
            );
            None
        }
    }
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Builtin => "built in".into(),
        Origin::File { path, line } => format!("{}:{line}", path.display()),
    }
}

/// Phrase text with sample arguments, to test a new phrase against the existing ones.
fn sample_text(p: &Phrase) -> String {
    let mut out = String::new();
    let mut rest = p.text.as_str();
    let mut i = 0;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let sample = match p.params.get(i).map(|s| s.kind) {
            Some(super::phrase::ParamKind::Int) => "1".to_string(),
            Some(super::phrase::ParamKind::Word) => "word".to_string(),
            Some(super::phrase::ParamKind::Value) => "1".to_string(),
            _ => format!("\"{}\"", p.params.get(i).map(|s| s.name.as_str()).unwrap_or("x")),
        };
        out.push_str(&sample);
        i += 1;
        rest = rest[open..].find('}').map(|c| &rest[open + c + 1..]).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn find_cycles(registry: &Registry) -> Diagnostics {
    let mut errors = Diagnostics::default();
    let edges: BTreeMap<usize, Vec<usize>> = registry
        .defs()
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match &d.body {
            StepBody::Macro(m) => Some((i, m.sub_steps().map(|s| s.step.index).collect())),
            StepBody::Builtin(_) => None,
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; registry.defs().len()];
    let mut stack = Vec::new();
    fn visit(
        n: usize,
        edges: &BTreeMap<usize, Vec<usize>>,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        found: &mut Vec<Vec<usize>>,
    ) {
        state[n] = 1;
        stack.push(n);
        for &m in edges.get(&n).into_iter().flatten() {
            if state[m] == 1 {
                let start = stack.iter().position(|&x| x == m).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(m);
                found.push(cycle);
            } else if state[m] == 0 {
                visit(m, edges, state, stack, found);
            }
        }
        stack.pop();
        state[n] = 2;
    }
    let mut found = Vec::new();
    for &n in edges.keys() {
        if state[n] == 0 {
            visit(n, &edges, &mut state, &mut stack, &mut found);
        }
    }
    for cycle in found {
        let first = registry.get(cycle[0]);
        let names: Vec<String> = cycle
            .iter()
            .map(|&i| format!("{:?}", registry.get(i).phrase.text))
            .collect();
        let (path, line) = match &first.origin {
            Origin::File { path, line } => (path.clone(), *line),
            Origin::Builtin => (PathBuf::from("steps"), 1),
        };
        errors.push(
            Diagnostic::new(
                path,
                format!("declarative steps call each other in a cycle: {}", names.join(" -> ")),
            )
            .at(line, 1),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> (Registry, Diagnostics, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
        let mut r = crate::steps::builtin_registry();
        let errors = load_into(&mut r, dir.path());
        (r, errors, dir)
    }

    #[test]
    fn a_macro_resolves_and_can_use_another() {
        let (r, errors, _d) = load(
            "steps:\n  - phrase: the ticket {id} is fetched\n    do:\n      - the path parameter \"id\" is \"${id}\"\n      - When I call \"getTicket\"\n  - phrase: ticket {id} is fine\n    do:\n      - the ticket \"${id}\" is fetched\n      - the response status is 200\n",
        );
        assert!(errors.is_empty(), "{errors}");
        assert!(matches!(r.lookup(r#"ticket "T-1" is fine"#), Lookup::Found(_)));
    }

    #[test]
    fn undefined_expansion_is_located_with_a_suggestion() {
        let (_, errors, _d) = load("steps:\n  - phrase: x happens\n    do:\n      - the response statis is 200\n");
        assert_eq!(errors.len(), 1, "{errors}");
        let e = &errors.0[0];
        assert_eq!(e.span.map(|s| s.line), Some(4));
        assert!(
            e.help.as_deref().unwrap_or("").contains("the response status is"),
            "{e}"
        );
    }

    #[test]
    fn cycles_are_found() {
        let (_, errors, _d) =
            load("steps:\n  - phrase: step a\n    do:\n      - step b\n  - phrase: step b\n    do:\n      - step a\n");
        assert!(errors.0.iter().any(|e| e.message.contains("cycle")), "{errors}");
    }

    #[test]
    fn a_table_is_passed_on_or_run_row_by_row() {
        let (r, errors, _d) = load(
            "steps:\n  - phrase: 'these fields are sent:'\n    table: true\n    do:\n      - step: 'the request body has the fields:'\n        table: ${table}\n  - phrase: 'these tickets exist:'\n    table: true\n    do:\n      - each row:\n          - the variable \"t\" is \"${row.title}\"\n",
        );
        assert!(errors.is_empty(), "{errors}");
        let Lookup::Found(f) = r.lookup("these tickets exist:") else {
            panic!("the phrase is known")
        };
        let def = r.get(f.index);
        assert_eq!(def.attachment, Attachment::Table);
        let StepBody::Macro(m) = &def.body else {
            panic!("a macro")
        };
        assert!(matches!(&m.steps[..], [MacroItem::EachRow(rows)] if rows.len() == 1));
    }

    #[test]
    fn table_uses_need_a_phrase_that_takes_a_table() {
        let (_, errors, _d) = load(
            "steps:\n  - phrase: no table here\n    do:\n      - each row:\n          - the response status is 200\n      - step: 'the request body has the fields:'\n        table: ${table}\n  - phrase: both\n    table: true\n    docstring: true\n    do:\n      - the response status is 200\n  - phrase: odd table\n    table: true\n    do:\n      - step: 'the request body has the fields:'\n        table: rows please\n",
        );
        let text = errors.to_string();
        assert!(text.contains("`each row:` needs a phrase that takes a table"), "{text}");
        assert!(
            text.contains("`table: ${table}` needs a phrase that takes a table"),
            "{text}"
        );
        assert!(text.contains("takes a doc string or a table, not both"), "{text}");
        assert!(text.contains("not \"rows please\""), "{text}");
    }

    #[test]
    fn a_phrase_colliding_with_a_builtin_is_refused() {
        let (_, errors, _d) = load("steps:\n  - phrase: I call {op}\n    do:\n      - the response status is 200\n");
        assert!(errors.0.iter().any(|e| e.message.contains("collides")), "{errors}");
    }
}
