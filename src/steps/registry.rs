//! The step registry: every phrase contrail understands, built-in and declarative, in one list.
//!
//! The runner, `contrail lint` and `contrail steps` all read this one registry, so the
//! vocabulary that is documented is exactly the one that runs.

use futures::future::LocalBoxFuture;

use super::failure::StepResult;
use super::phrase::{Phrase, skeleton_of_step};
use super::world::{Args, World};

pub type Handler = for<'a> fn(&'a mut World, Args) -> LocalBoxFuture<'a, StepResult>;

/// What must come below the step in the feature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    None,
    DocString,
    Table,
}

#[derive(Clone)]
pub enum StepBody {
    Builtin(Handler),
    Macro(MacroDef),
}

impl std::fmt::Debug for StepBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepBody::Builtin(_) => write!(f, "Builtin"),
            StepBody::Macro(m) => write!(f, "Macro({} steps)", m.sub_steps().count()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MacroDef {
    pub steps: Vec<MacroItem>,
}

impl MacroDef {
    /// Every sub-step, those run per table row included.
    pub fn sub_steps(&self) -> impl Iterator<Item = &SubStep> {
        self.steps.iter().flat_map(|i| match i {
            MacroItem::Step(s) => std::slice::from_ref(s),
            MacroItem::EachRow(subs) => subs.as_slice(),
        })
    }
}

/// One entry of a declarative step's expansion.
#[derive(Debug, Clone)]
pub enum MacroItem {
    Step(SubStep),
    /// Steps run once per row of the declarative step's table (its first row names the
    /// columns), each row's cells bound as `${row.COLUMN}`.
    EachRow(Vec<SubStep>),
}

#[derive(Debug, Clone)]
pub struct SubStep {
    pub text: String,
    pub step: StepRef,
    pub docstring: Option<String>,
    pub table: Option<TableArg>,
}

/// The table a sub-step gets.
#[derive(Debug, Clone)]
pub enum TableArg {
    /// Written in the expansion (cells may use `${...}`).
    Rows(Vec<Vec<String>>),
    /// The declarative step's own table, passed on (`table: ${table}`).
    Passed,
}

/// Where a definition comes from, for `contrail steps` and for lint messages.
#[derive(Debug, Clone)]
pub enum Origin {
    Builtin,
    File { path: std::path::PathBuf, line: usize },
}

#[derive(Debug, Clone)]
pub struct StepDef {
    pub phrase: Phrase,
    pub group: String,
    pub summary: String,
    pub example: String,
    pub attachment: Attachment,
    pub body: StepBody,
    pub origin: Origin,
}

/// A resolved use of a step: which definition, with which raw (not yet interpolated) arguments.
#[derive(Debug, Clone)]
pub struct StepRef {
    pub index: usize,
    pub raw_args: Vec<String>,
}

pub enum Lookup {
    Found(StepRef),
    Undefined { suggestion: Option<String> },
    Ambiguous(Vec<String>),
}

#[derive(Debug, Default, Clone)]
pub struct Registry {
    defs: Vec<StepDef>,
}

/// Leading Gherkin keywords are not part of a phrase (declarative steps may write them).
pub fn strip_keyword(text: &str) -> &str {
    let t = text.trim();
    for kw in ["Given ", "When ", "Then ", "And ", "But ", "* "] {
        if let Some(rest) = t.strip_prefix(kw) {
            return rest.trim_start();
        }
    }
    t
}

impl Registry {
    pub fn push(&mut self, def: StepDef) -> usize {
        self.defs.push(def);
        self.defs.len() - 1
    }

    pub fn get(&self, index: usize) -> &StepDef {
        &self.defs[index]
    }

    pub fn get_mut(&mut self, index: usize) -> &mut StepDef {
        &mut self.defs[index]
    }

    pub fn defs(&self) -> &[StepDef] {
        &self.defs
    }

    pub fn lookup(&self, text: &str) -> Lookup {
        let text = strip_keyword(text);
        let mut found: Vec<StepRef> = Vec::new();
        for (index, def) in self.defs.iter().enumerate() {
            if let Some(raw_args) = def.phrase.captures(text) {
                found.push(StepRef { index, raw_args });
            }
        }
        match found.len() {
            0 => Lookup::Undefined {
                suggestion: self.closest(text),
            },
            1 => Lookup::Found(found.remove(0)),
            _ => Lookup::Ambiguous(found.iter().map(|s| self.defs[s.index].phrase.text.clone()).collect()),
        }
    }

    /// The example of the known step whose wording is closest to `text`, if any is close.
    pub fn closest(&self, text: &str) -> Option<String> {
        let wanted = skeleton_of_step(text).to_lowercase();
        self.defs
            .iter()
            .map(|d| {
                (
                    strsim::normalized_levenshtein(&wanted, &d.phrase.skeleton().to_lowercase()),
                    d,
                )
            })
            .filter(|(score, _)| *score > 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, d)| d.example.clone())
    }
}
