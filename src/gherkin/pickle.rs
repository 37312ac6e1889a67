//! Pickles: the scenarios as they run. An outline gives one pickle per Examples row, with
//! `<name>` placeholders filled in (text, doc strings, tables, the name); a scenario gets the
//! background steps of its feature and rule before its own; tags are inherited from the
//! feature, the rule and the Examples. Shaped as Cucumber's `Pickle` message.

use serde::Serialize;

use super::ast::{self, FeatureChild, GherkinDocument, Location, RuleChild};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pickle {
    pub id: String,
    pub uri: String,
    pub location: Location,
    pub name: String,
    pub language: String,
    pub steps: Vec<PickleStep>,
    pub tags: Vec<PickleTag>,
    pub ast_node_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleTag {
    pub name: String,
    pub ast_node_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleStep {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<Argument>,
    pub ast_node_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Argument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_string: Option<PickleDocString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_table: Option<PickleTable>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleDocString {
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// 1 or 2 when a step has both a table and a doc string: which came first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument_index: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickleTable {
    pub rows: Vec<PickleRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument_index: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickleRow {
    pub cells: Vec<PickleCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickleCell {
    pub value: String,
}

struct Compiler<'d> {
    uri: &'d str,
    language: &'d str,
    next_id: usize,
    out: Vec<Pickle>,
}

/// The pickles of a document and the next free id; ids continue from `next_id` (the
/// document's own ids come first).
pub fn compile(doc: &GherkinDocument, next_id: usize) -> (Vec<Pickle>, usize) {
    let Some(feature) = &doc.feature else {
        return (Vec::new(), next_id);
    };
    let mut c = Compiler {
        uri: &doc.uri,
        language: &feature.language,
        next_id,
        out: Vec::new(),
    };
    let mut background: Vec<&ast::Step> = Vec::new();
    for child in &feature.children {
        match child {
            FeatureChild::Background(b) => background.extend(&b.steps),
            FeatureChild::Scenario(s) => c.scenario(&feature.tags, &background, s),
            FeatureChild::Rule(r) => {
                let tags: Vec<ast::Tag> = feature.tags.iter().chain(&r.tags).cloned().collect();
                let mut rule_background = background.clone();
                for child in &r.children {
                    match child {
                        RuleChild::Background(b) => rule_background.extend(&b.steps),
                        RuleChild::Scenario(s) => c.scenario(&tags, &rule_background, s),
                    }
                }
            }
        }
    }
    (c.out, c.next_id)
}

/// `<name>` replaced by the row's value for each column, literally (a value may hold `$`,
/// `\` or another `<...>`).
fn interpolate(text: &str, header: &[ast::Cell], values: &[ast::Cell]) -> String {
    let mut out = text.to_string();
    for (h, v) in header.iter().zip(values) {
        out = out.replace(&format!("<{}>", h.value), &v.value);
    }
    out
}

impl Compiler<'_> {
    fn id(&mut self) -> String {
        let id = self.next_id.to_string();
        self.next_id += 1;
        id
    }

    fn scenario(&mut self, inherited: &[ast::Tag], background: &[&ast::Step], s: &ast::Scenario) {
        if s.examples.is_empty() {
            let mut last = "Unknown";
            let mut steps = Vec::new();
            if !s.steps.is_empty() {
                for step in background.iter().copied().chain(&s.steps) {
                    last = kind(step, last);
                    steps.push(self.step(step, last, &[], &[], None));
                }
            }
            let tags = inherited.iter().chain(&s.tags).map(pickle_tag).collect();
            let id = self.id();
            self.out.push(Pickle {
                id,
                uri: self.uri.to_string(),
                location: s.location,
                name: s.name.clone(),
                language: self.language.to_string(),
                steps,
                tags,
                ast_node_ids: vec![s.id.clone()],
            });
            return;
        }
        for examples in &s.examples {
            let Some(header) = &examples.table_header else { continue };
            for row in &examples.table_body {
                let mut last = "Unknown";
                let mut steps = Vec::new();
                if !s.steps.is_empty() {
                    for step in background.iter().copied() {
                        last = kind(step, last);
                        steps.push(self.step(step, last, &[], &[], None));
                    }
                    for step in &s.steps {
                        last = kind(step, last);
                        steps.push(self.step(step, last, &header.cells, &row.cells, Some(&row.id)));
                    }
                }
                let tags = inherited
                    .iter()
                    .chain(&s.tags)
                    .chain(&examples.tags)
                    .map(pickle_tag)
                    .collect();
                let id = self.id();
                self.out.push(Pickle {
                    id,
                    uri: self.uri.to_string(),
                    location: row.location,
                    name: interpolate(&s.name, &header.cells, &row.cells),
                    language: self.language.to_string(),
                    steps,
                    tags,
                    ast_node_ids: vec![s.id.clone(), row.id.clone()],
                });
            }
        }
    }

    fn step(
        &mut self,
        step: &ast::Step,
        kind: &'static str,
        header: &[ast::Cell],
        values: &[ast::Cell],
        row: Option<&String>,
    ) -> PickleStep {
        let both = step.data_table.is_some() && step.doc_string.is_some();
        let table_first = match (&step.data_table, &step.doc_string) {
            (Some(t), Some(d)) => d.location.line > t.location.line,
            _ => false,
        };
        let data_table = step.data_table.as_ref().map(|t| PickleTable {
            rows: t
                .rows
                .iter()
                .map(|r| PickleRow {
                    cells: r
                        .cells
                        .iter()
                        .map(|c| PickleCell {
                            value: interpolate(&c.value, header, values),
                        })
                        .collect(),
                })
                .collect(),
            argument_index: both.then_some(if table_first { 1 } else { 2 }),
        });
        let doc_string = step.doc_string.as_ref().map(|d| PickleDocString {
            content: interpolate(&d.content, header, values),
            media_type: d.media_type.as_ref().map(|m| interpolate(m, header, values)),
            argument_index: both.then_some(if table_first { 2 } else { 1 }),
        });
        let argument = (data_table.is_some() || doc_string.is_some()).then_some(Argument { doc_string, data_table });
        let mut ast_node_ids = vec![step.id.clone()];
        ast_node_ids.extend(row.cloned());
        PickleStep {
            id: self.id(),
            text: interpolate(&step.text, header, values),
            kind,
            argument,
            ast_node_ids,
        }
    }
}

/// A conjunction (`And`, `But`) takes the type of the step before it.
fn kind(step: &ast::Step, last: &'static str) -> &'static str {
    match step.keyword_type {
        Some("Conjunction") => last,
        Some(k) => k,
        None => last,
    }
}

fn pickle_tag(t: &ast::Tag) -> PickleTag {
    PickleTag {
        name: t.name.clone(),
        ast_node_id: t.id.clone(),
    }
}
