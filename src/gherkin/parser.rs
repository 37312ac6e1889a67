//! The Gherkin grammar as a state machine over lines, and the document built as it goes.
//!
//! Written from the official grammar (gherkin.berp): each state knows which kinds of line may
//! come next, tried in the grammar's order, and each kind moves to the next state while the
//! builder opens and closes the grammar's rules (Feature, Rule, Scenario, Step, ...). An
//! unexpected line is an error that is recorded and skipped, so one pass reports every error
//! in the file at the line and column the official parsers report (after 10, it stops).

use super::ParseError;
use super::ast::{self, Location};
use super::dialect::Dialect;
use super::line::{self, Line};
use super::matcher::{Kind, Matcher, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Feature,
    Rule,
    Background,
    Scenario,
    Examples,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    AfterLanguage,
    /// Tag lines above a Feature, Rule, Scenario or Examples line.
    Tags(Block),
    /// Just after a block's title line: empty lines do not start its description yet.
    Header(Block),
    Description(Block),
    /// After a step line of a Background or Scenario.
    Step(Block),
    Table {
        block: Block,
        after_doc: bool,
    },
    Doc {
        block: Block,
        after_table: bool,
    },
    AfterDoc {
        block: Block,
        after_table: bool,
    },
    ExamplesTable,
    End,
}

/// A tag line is read with a look at what follows it: tags of Examples, of a Scenario, or
/// (neither follows) of a Rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    No,
    Scenario,
    Examples,
}

/// The grammar's rules that make a node of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Document,
    Feature,
    FeatureHeader,
    Rule,
    RuleHeader,
    Background,
    ScenarioDefinition,
    Scenario,
    ExamplesDefinition,
    Examples,
    ExamplesTable,
    Step,
    DataTable,
    DocString,
    Tags,
    Description,
}

enum Item {
    Token(Token),
    Node(Node),
    Step(ast::Step),
    DataTable(ast::DataTable),
    DocString(ast::DocString),
    Background(ast::Background),
    Scenario(ast::Scenario),
    Examples(ast::Examples),
    Rows(Vec<ast::TableRow>),
    Description(String),
    Rule(ast::Rule),
    Feature(ast::Feature),
}

struct Node {
    rule: R,
    items: Vec<(R, Item)>,
}

impl Node {
    fn tokens(&self, kind: Kind) -> impl Iterator<Item = &Token> {
        self.items.iter().filter_map(move |(_, i)| match i {
            Item::Token(t) if t.kind == kind => Some(t),
            _ => None,
        })
    }

    fn token(&self, kind: Kind) -> Option<&Token> {
        self.tokens(kind).next()
    }

    fn take(&mut self, rule: R) -> Option<Item> {
        let i = self.items.iter().position(|(r, _)| *r == rule)?;
        Some(self.items.remove(i).1)
    }

    fn take_all(&mut self, rule: R) -> Vec<Item> {
        let (hit, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|(r, _)| *r == rule);
        self.items = rest;
        hit.into_iter().map(|(_, i)| i).collect()
    }

    fn description(&mut self) -> String {
        match self.take(R::Description) {
            Some(Item::Description(d)) => d,
            _ => String::new(),
        }
    }
}

pub struct Parser<'s> {
    lines: Vec<Line<'s>>,
    matcher: Matcher,
    stack: Vec<Node>,
    comments: Vec<ast::Comment>,
    errors: Vec<ParseError>,
    next_id: usize,
}

/// Stops collecting after this many errors, as the official parsers do.
const MAX_ERRORS: usize = 10;

impl<'s> Parser<'s> {
    pub fn new(source: &'s str, language: &'static Dialect, markdown: bool, first_id: usize) -> Parser<'s> {
        Parser {
            lines: line::lines(source),
            matcher: Matcher::new(language, markdown),
            stack: vec![Node {
                rule: R::Document,
                items: Vec::new(),
            }],
            comments: Vec::new(),
            errors: Vec::new(),
            next_id: first_id,
        }
    }

    /// The document, or every error found in it. `next_id` continues the id sequence (the
    /// pickles' ids follow the document's).
    pub fn parse(mut self, uri: &str) -> Result<(ast::GherkinDocument, usize), Vec<ParseError>> {
        let mut state = State::Start;
        let mut index = 0;
        loop {
            let eof = index >= self.lines.len();
            state = self.advance(state, index);
            index += 1;
            if eof || state == State::End || self.errors.len() > MAX_ERRORS {
                break;
            }
        }
        if !self.errors.is_empty() {
            // The official parsers stop at the eleventh error; a line can add two at once here.
            self.errors.truncate(MAX_ERRORS + 1);
            return Err(self.errors);
        }
        self.close_until(|r| r == R::Document);
        let mut root = self.stack.pop().unwrap_or(Node {
            rule: R::Document,
            items: Vec::new(),
        });
        let feature = match root.take(R::Feature) {
            Some(Item::Feature(f)) => Some(f),
            _ => None,
        };
        Ok((
            ast::GherkinDocument {
                uri: uri.to_string(),
                feature,
                comments: self.comments,
            },
            self.next_id,
        ))
    }

    fn line(&self, index: usize) -> Option<Line<'s>> {
        self.lines.get(index).copied()
    }

    fn error(&mut self, e: ParseError) {
        if !self.errors.iter().any(|x| x == &e) {
            self.errors.push(e);
        }
    }

    /// Reads line `index` (past the end: the end of the file) in `state`.
    fn advance(&mut self, state: State, index: usize) -> State {
        let line = self.line(index);
        let alternatives = alternatives(state);
        for &(kind, look) in &alternatives {
            let token = if kind == Kind::Eof {
                (line.is_none()).then(|| self.matcher.eof(index + 1))
            } else {
                match self.matcher.try_match(kind, line.as_ref()) {
                    Ok(t) => t,
                    Err(e) => {
                        self.error(e);
                        None
                    }
                }
            };
            let Some(token) = token else { continue };
            if look != Look::No && !self.look_ahead(index, look) {
                continue;
            }
            return self.accept(state, kind, look, token);
        }
        let mut expected: Vec<&str> = Vec::new();
        for (k, _) in &alternatives {
            if !expected.contains(&k.describe()) {
                expected.push(k.describe());
            }
        }
        let expected = expected.join(", ");
        self.error(match line {
            None => ParseError {
                line: index + 1,
                column: None,
                message: format!("unexpected end of file; expected {expected}"),
            },
            Some(l) => ParseError::at(
                l.number,
                l.indent + 1,
                format!("unexpected {:?}; expected {expected}", l.trimmed.trim()),
            ),
        });
        state
    }

    /// Whether, past empty lines, comments and more tags, a Scenario (or Examples) line
    /// follows the tag line at `index`.
    fn look_ahead(&mut self, index: usize, look: Look) -> bool {
        let wanted = match look {
            Look::Examples => Kind::ExamplesLine,
            _ => Kind::ScenarioLine,
        };
        let mut i = index + 1;
        while let Some(line) = self.line(i) {
            let hit = |m: &mut Matcher, k: Kind, errors: &mut Vec<ParseError>| match m.try_match(k, Some(&line)) {
                Ok(t) => t.is_some(),
                Err(e) => {
                    if !errors.contains(&e) {
                        errors.push(e);
                    }
                    false
                }
            };
            if hit(&mut self.matcher, wanted, &mut self.errors) {
                return true;
            }
            if !(hit(&mut self.matcher, Kind::Empty, &mut self.errors)
                || hit(&mut self.matcher, Kind::Comment, &mut self.errors)
                || hit(&mut self.matcher, Kind::TagLine, &mut self.errors))
            {
                return false;
            }
            i += 1;
        }
        false
    }

    fn accept(&mut self, state: State, kind: Kind, look: Look, token: Token) -> State {
        let next = match kind {
            Kind::Eof => {
                self.close_until(|r| r == R::Document);
                State::End
            }
            Kind::Empty => state,
            Kind::Comment | Kind::Other => match state {
                State::Header(b) => {
                    self.start(R::Description);
                    State::Description(b)
                }
                _ => state,
            },
            Kind::Language => {
                self.start(R::Feature);
                self.start(R::FeatureHeader);
                State::AfterLanguage
            }
            Kind::TagLine => match (state, look) {
                (State::Start | State::AfterLanguage, _) => {
                    if self.top() == R::Document {
                        self.start(R::Feature);
                        self.start(R::FeatureHeader);
                    }
                    self.start(R::Tags);
                    State::Tags(Block::Feature)
                }
                (State::Tags(_), _) => state,
                (_, Look::Examples) => {
                    self.close_until(|r| r == R::Scenario);
                    self.start(R::ExamplesDefinition);
                    self.start(R::Tags);
                    State::Tags(Block::Examples)
                }
                (_, Look::Scenario) => {
                    self.close_until(|r| matches!(r, R::Rule | R::Feature));
                    self.start(R::ScenarioDefinition);
                    self.start(R::Tags);
                    State::Tags(Block::Scenario)
                }
                (_, Look::No) => {
                    self.close_until(|r| r == R::Feature);
                    self.start(R::Rule);
                    self.start(R::RuleHeader);
                    self.start(R::Tags);
                    State::Tags(Block::Rule)
                }
            },
            Kind::FeatureLine => {
                if self.top() == R::Tags {
                    self.end();
                }
                if self.top() == R::Document {
                    self.start(R::Feature);
                    self.start(R::FeatureHeader);
                }
                State::Header(Block::Feature)
            }
            Kind::RuleLine => {
                if state == State::Tags(Block::Rule) {
                    self.end();
                } else {
                    self.close_until(|r| r == R::Feature);
                    self.start(R::Rule);
                    self.start(R::RuleHeader);
                }
                State::Header(Block::Rule)
            }
            Kind::BackgroundLine => {
                self.close_until(|r| matches!(r, R::Rule | R::Feature));
                self.start(R::Background);
                State::Header(Block::Background)
            }
            Kind::ScenarioLine => self.definition(
                state,
                Block::Scenario,
                |r| matches!(r, R::Rule | R::Feature),
                R::ScenarioDefinition,
                R::Scenario,
            ),
            Kind::ExamplesLine => self.definition(
                state,
                Block::Examples,
                |r| r == R::Scenario,
                R::ExamplesDefinition,
                R::Examples,
            ),
            Kind::StepLine => {
                self.close_until(|r| matches!(r, R::Background | R::Scenario));
                let block = if self.top() == R::Background {
                    Block::Background
                } else {
                    Block::Scenario
                };
                self.start(R::Step);
                State::Step(block)
            }
            Kind::TableRow => match state {
                State::Step(block) => {
                    self.start(R::DataTable);
                    State::Table {
                        block,
                        after_doc: false,
                    }
                }
                State::AfterDoc { block, .. } => {
                    self.close_until(|r| r == R::Step);
                    self.start(R::DataTable);
                    State::Table { block, after_doc: true }
                }
                State::Table { .. } | State::ExamplesTable => state,
                _ => {
                    self.close_until(|r| r == R::Examples);
                    self.start(R::ExamplesTable);
                    State::ExamplesTable
                }
            },
            Kind::DocStringSeparator => match state {
                State::Step(block) => {
                    self.start(R::DocString);
                    State::Doc {
                        block,
                        after_table: false,
                    }
                }
                State::Table { block, .. } => {
                    self.close_until(|r| r == R::Step);
                    self.start(R::DocString);
                    State::Doc {
                        block,
                        after_table: true,
                    }
                }
                State::Doc { block, after_table } => State::AfterDoc { block, after_table },
                _ => state,
            },
        };
        self.build(kind, token);
        next
    }

    /// A Scenario or Examples line: after its tags (whose definition is open already), or
    /// as a new definition in its container; then the block itself.
    fn definition(&mut self, state: State, block: Block, container: fn(R) -> bool, definition: R, inner: R) -> State {
        if state == State::Tags(block) {
            self.end();
        } else {
            self.close_until(container);
            self.start(definition);
        }
        self.start(inner);
        State::Header(block)
    }

    fn top(&self) -> R {
        self.stack.last().map_or(R::Document, |n| n.rule)
    }

    fn start(&mut self, rule: R) {
        self.stack.push(Node {
            rule,
            items: Vec::new(),
        });
    }

    fn close_until(&mut self, stop: impl Fn(R) -> bool) {
        while self.stack.len() > 1 && !stop(self.top()) {
            self.end();
        }
    }

    /// Closes the innermost rule, turning its node into what the document holds.
    fn end(&mut self) {
        let Some(node) = self.stack.pop() else { return };
        let rule = node.rule;
        match self.transform(node) {
            Ok(Some(item)) => {
                if let Some(parent) = self.stack.last_mut() {
                    parent.items.push((rule, item));
                }
            }
            Ok(None) => {}
            Err(e) => self.error(e),
        }
    }

    /// Adds a line to the open rule (`kind` is the kind the state asked for; a Markdown table
    /// separator asked for as a comment is an empty line).
    fn build(&mut self, kind: Kind, token: Token) {
        if kind == Kind::Comment && token.kind == Kind::Comment {
            self.comments.push(ast::Comment {
                location: Location::new(token.line, 1),
                text: token.text,
            });
            return;
        }
        if let Some(top) = self.stack.last_mut() {
            let rule = top.rule;
            top.items.push((rule, Item::Token(token)));
        }
    }

    fn id(&mut self) -> String {
        let id = self.next_id.to_string();
        self.next_id += 1;
        id
    }

    fn tags(&mut self, node: &mut Node) -> Vec<ast::Tag> {
        let Some(Item::Node(tags)) = node.take(R::Tags) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for t in tags.tokens(Kind::TagLine) {
            for (column, name) in &t.items {
                out.push(ast::Tag {
                    id: self.id(),
                    location: Location::new(t.line, *column),
                    name: name.clone(),
                });
            }
        }
        out
    }

    fn rows(&mut self, node: &Node) -> Result<Vec<ast::TableRow>, ParseError> {
        let mut rows = Vec::new();
        for t in node.tokens(Kind::TableRow) {
            rows.push(ast::TableRow {
                id: self.id(),
                location: t.location(),
                cells: t
                    .items
                    .iter()
                    .map(|(column, value)| ast::Cell {
                        location: Location::new(t.line, *column),
                        value: value.clone(),
                    })
                    .collect(),
            });
        }
        if let Some(first) = rows.first() {
            let n = first.cells.len();
            if let Some(bad) = rows.iter().find(|r| r.cells.len() != n) {
                return Err(ParseError::at(
                    bad.location.line,
                    bad.location.column.unwrap_or(1),
                    "inconsistent cell count within the table",
                ));
            }
        }
        Ok(rows)
    }

    fn steps(node: &mut Node) -> Vec<ast::Step> {
        node.take_all(R::Step)
            .into_iter()
            .filter_map(|i| match i {
                Item::Step(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn transform(&mut self, mut node: Node) -> Result<Option<Item>, ParseError> {
        Ok(Some(match node.rule {
            R::Step => {
                let Some(line) = node.token(Kind::StepLine).cloned() else {
                    return Ok(None);
                };
                let data_table = match node.take(R::DataTable) {
                    Some(Item::DataTable(t)) => Some(t),
                    _ => None,
                };
                let doc_string = match node.take(R::DocString) {
                    Some(Item::DocString(d)) => Some(d),
                    _ => None,
                };
                Item::Step(ast::Step {
                    id: self.id(),
                    location: line.location(),
                    keyword: line.keyword.clone().unwrap_or_default(),
                    keyword_type: line.keyword_type.map(|k| k.as_str()),
                    text: line.text.clone(),
                    data_table,
                    doc_string,
                })
            }
            R::DocString => {
                let Some(fence) = node.token(Kind::DocStringSeparator).cloned() else {
                    return Ok(None);
                };
                let content: Vec<&str> = node.tokens(Kind::Other).map(|t| t.text.as_str()).collect();
                Item::DocString(ast::DocString {
                    location: fence.location(),
                    content: content.join("\n"),
                    delimiter: fence.keyword.clone().unwrap_or_default(),
                    media_type: (!fence.text.is_empty()).then(|| fence.text.clone()),
                })
            }
            R::DataTable => {
                let rows = self.rows(&node)?;
                let Some(first) = rows.first() else { return Ok(None) };
                Item::DataTable(ast::DataTable {
                    location: first.location,
                    rows,
                })
            }
            R::Background => {
                let Some(line) = node.token(Kind::BackgroundLine).cloned() else {
                    return Ok(None);
                };
                let description = node.description();
                let steps = Self::steps(&mut node);
                Item::Background(ast::Background {
                    id: self.id(),
                    location: line.location(),
                    keyword: line.keyword.unwrap_or_default(),
                    name: line.text,
                    description,
                    steps,
                })
            }
            R::ScenarioDefinition => {
                let tags = self.tags(&mut node);
                let Some(Item::Node(mut scenario)) = node.take(R::Scenario) else {
                    return Ok(None);
                };
                let Some(line) = scenario.token(Kind::ScenarioLine).cloned() else {
                    return Ok(None);
                };
                let description = scenario.description();
                let steps = Self::steps(&mut scenario);
                let examples = scenario
                    .take_all(R::ExamplesDefinition)
                    .into_iter()
                    .filter_map(|i| match i {
                        Item::Examples(e) => Some(e),
                        _ => None,
                    })
                    .collect();
                Item::Scenario(ast::Scenario {
                    id: self.id(),
                    tags,
                    location: line.location(),
                    keyword: line.keyword.unwrap_or_default(),
                    name: line.text,
                    description,
                    steps,
                    examples,
                })
            }
            R::ExamplesDefinition => {
                let tags = self.tags(&mut node);
                let Some(Item::Node(mut examples)) = node.take(R::Examples) else {
                    return Ok(None);
                };
                let Some(line) = examples.token(Kind::ExamplesLine).cloned() else {
                    return Ok(None);
                };
                let description = examples.description();
                let mut rows = match examples.take(R::ExamplesTable) {
                    Some(Item::Rows(r)) => r,
                    _ => Vec::new(),
                };
                let header = (!rows.is_empty()).then(|| rows.remove(0));
                Item::Examples(ast::Examples {
                    id: self.id(),
                    tags,
                    location: line.location(),
                    keyword: line.keyword.unwrap_or_default(),
                    name: line.text,
                    description,
                    table_header: header,
                    table_body: rows,
                })
            }
            R::ExamplesTable => Item::Rows(self.rows(&node)?),
            R::Description => {
                let mut lines: Vec<&str> = node.tokens(Kind::Other).map(|t| t.text.as_str()).collect();
                // Trailing blank lines are not part of it (whitespace-only ones included, as the
                // reference implementation trims them).
                while lines.last().is_some_and(|l| l.trim().is_empty()) {
                    lines.pop();
                }
                Item::Description(lines.join("\n"))
            }
            R::Rule => {
                let Some(Item::Node(mut header)) = node.take(R::RuleHeader) else {
                    return Ok(None);
                };
                let tags = self.tags(&mut header);
                let Some(line) = header.token(Kind::RuleLine).cloned() else {
                    return Ok(None);
                };
                let mut children = Vec::new();
                if let Some(Item::Background(b)) = node.take(R::Background) {
                    children.push(ast::RuleChild::Background(b));
                }
                for i in node.take_all(R::ScenarioDefinition) {
                    if let Item::Scenario(s) = i {
                        children.push(ast::RuleChild::Scenario(s));
                    }
                }
                let description = header.description();
                Item::Rule(ast::Rule {
                    id: self.id(),
                    tags,
                    location: line.location(),
                    keyword: line.keyword.unwrap_or_default(),
                    name: line.text,
                    description,
                    children,
                })
            }
            R::Feature => {
                let Some(Item::Node(mut header)) = node.take(R::FeatureHeader) else {
                    return Ok(None);
                };
                let tags = self.tags(&mut header);
                let Some(line) = header.token(Kind::FeatureLine).cloned() else {
                    return Ok(None);
                };
                let mut children = Vec::new();
                if let Some(Item::Background(b)) = node.take(R::Background) {
                    children.push(ast::FeatureChild::Background(b));
                }
                for i in node.take_all(R::ScenarioDefinition) {
                    if let Item::Scenario(s) = i {
                        children.push(ast::FeatureChild::Scenario(s));
                    }
                }
                for i in node.take_all(R::Rule) {
                    if let Item::Rule(r) = i {
                        children.push(ast::FeatureChild::Rule(r));
                    }
                }
                let description = header.description();
                Item::Feature(ast::Feature {
                    tags,
                    location: line.location(),
                    language: line.language.to_string(),
                    keyword: line.keyword.unwrap_or_default(),
                    name: line.text,
                    description,
                    children,
                })
            }
            R::Document | R::FeatureHeader | R::RuleHeader | R::Scenario | R::Examples | R::Tags => Item::Node(node),
        }))
    }
}

/// What may come in `state`, in the grammar's order; a tag line's look says which block its
/// tags belong to.
fn alternatives(state: State) -> Vec<(Kind, Look)> {
    use Kind::*;
    let plain = |kinds: &[Kind]| kinds.iter().map(|k| (*k, Look::No)).collect::<Vec<_>>();
    let next = |block: Block| -> Vec<(Kind, Look)> {
        match block {
            Block::Scenario | Block::Examples => vec![
                (TagLine, Look::Examples),
                (TagLine, Look::Scenario),
                (TagLine, Look::No),
                (ExamplesLine, Look::No),
                (ScenarioLine, Look::No),
                (RuleLine, Look::No),
            ],
            _ => vec![
                (TagLine, Look::Scenario),
                (TagLine, Look::No),
                (ScenarioLine, Look::No),
                (RuleLine, Look::No),
            ],
        }
    };
    let body = |block: Block| match block {
        Block::Feature | Block::Rule => BackgroundLine,
        Block::Background | Block::Scenario => StepLine,
        Block::Examples => TableRow,
    };
    let title = |block: Block| match block {
        Block::Feature => FeatureLine,
        Block::Rule => RuleLine,
        Block::Background => BackgroundLine,
        Block::Scenario => ScenarioLine,
        Block::Examples => ExamplesLine,
    };
    let join = |head: &[Kind], block: Block, tail: &[Kind]| {
        let mut v = plain(head);
        v.extend(next(block));
        v.extend(plain(tail));
        v
    };
    match state {
        State::Start => plain(&[Eof, Language, TagLine, FeatureLine, Comment, Empty]),
        State::AfterLanguage => plain(&[TagLine, FeatureLine, Comment, Empty]),
        State::Tags(b) => plain(&[TagLine, title(b), Comment, Empty]),
        State::Header(b) => join(&[Eof, Empty, Comment, body(b)], b, &[Other]),
        State::Description(b) => join(&[Eof, Comment, body(b)], b, &[Other]),
        State::Step(b) => join(&[Eof, TableRow, DocStringSeparator, StepLine], b, &[Comment, Empty]),
        State::Table {
            block,
            after_doc: false,
        } => join(&[Eof, TableRow, DocStringSeparator, StepLine], block, &[Comment, Empty]),
        State::Table { block, after_doc: true } => join(&[Eof, TableRow, StepLine], block, &[Comment, Empty]),
        State::Doc { .. } => plain(&[DocStringSeparator, Other]),
        State::AfterDoc {
            block,
            after_table: false,
        } => join(&[Eof, TableRow, StepLine], block, &[Comment, Empty]),
        State::AfterDoc {
            block,
            after_table: true,
        } => join(&[Eof, StepLine], block, &[Comment, Empty]),
        State::ExamplesTable => join(&[Eof, TableRow], Block::Examples, &[Comment, Empty]),
        State::End => Vec::new(),
    }
}
