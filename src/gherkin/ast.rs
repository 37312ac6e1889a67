//! The parsed document, shaped as Cucumber's `GherkinDocument` message (so it serialises to
//! what Cucumber's own tools read). Ids are strings from one counter per document, given in
//! the order the official parsers give them, so pickles can point at their source nodes.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Location {
    pub fn new(line: usize, column: usize) -> Location {
        Location {
            line,
            column: Some(column),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub id: String,
    pub location: Location,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub location: Location,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub location: Location,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub id: String,
    pub location: Location,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataTable {
    pub location: Location,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocString {
    pub location: Location,
    pub content: String,
    pub delimiter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub id: String,
    pub location: Location,
    pub keyword: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword_type: Option<&'static str>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_table: Option<DataTable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_string: Option<DocString>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Background {
    pub id: String,
    pub location: Location,
    pub keyword: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Examples {
    pub id: String,
    pub tags: Vec<Tag>,
    pub location: Location,
    pub keyword: String,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_header: Option<TableRow>,
    pub table_body: Vec<TableRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub id: String,
    pub tags: Vec<Tag>,
    pub location: Location,
    pub keyword: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<Step>,
    pub examples: Vec<Examples>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleChild {
    Background(Background),
    Scenario(Scenario),
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub tags: Vec<Tag>,
    pub location: Location,
    pub keyword: String,
    pub name: String,
    pub description: String,
    pub children: Vec<RuleChild>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FeatureChild {
    Background(Background),
    Scenario(Scenario),
    Rule(Rule),
}

#[derive(Debug, Clone, Serialize)]
pub struct Feature {
    pub tags: Vec<Tag>,
    pub location: Location,
    pub language: String,
    /// Empty for a Markdown file whose first line is not a `# Feature:` heading.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub keyword: String,
    pub name: String,
    pub description: String,
    pub children: Vec<FeatureChild>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GherkinDocument {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
    pub comments: Vec<Comment>,
}
