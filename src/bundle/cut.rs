//! A feature file cut down to some of its scenarios, by lines, so what is left reads as the
//! consumer wrote it (comments, tables and doc strings untouched): the header and the
//! backgrounds stay, a scenario not kept goes with its tags, an outline keeps only the
//! Examples rows kept, a rule with nothing kept goes whole.
//!
//! A scenario's block runs from the comment lines right above it, its tags and its keyword to
//! the line before the next block.

use std::collections::BTreeSet;

use crate::gherkin::ast::{Background, FeatureChild, RuleChild, Scenario, Tag};

/// `source` keeping only the scenarios whose (expanded) line is in `kept`: a plain scenario's
/// keyword line, an outline row's line. None when nothing is kept.
pub fn cut(
    source: &str,
    feature: &crate::gherkin::ast::Feature,
    kept: &BTreeSet<usize>,
    markdown: bool,
) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let last = lines.len();
    let mut drop = BTreeSet::new();
    let mut any = false;
    // Comment lines right above a block are about it (in Markdown, `#` starts a heading).
    let with_comments = |start: usize| {
        let mut s = start;
        while !markdown && s > 1 && lines.get(s - 2).is_some_and(|l| l.trim_start().starts_with('#')) {
            s -= 1;
        }
        s
    };
    let starts: Vec<usize> = feature
        .children
        .iter()
        .map(|c| with_comments(start_of_feature_child(c)))
        .collect();
    for (i, child) in feature.children.iter().enumerate() {
        let end = starts.get(i + 1).map_or(last, |s| s - 1);
        let block = starts[i]..=end;
        match child {
            FeatureChild::Background(_) => {}
            FeatureChild::Scenario(s) => any |= keep_scenario(s, block, kept, &mut drop),
            FeatureChild::Rule(r) => {
                let inner: Vec<usize> = r
                    .children
                    .iter()
                    .map(|c| with_comments(start_of_rule_child(c)))
                    .collect();
                let mut kept_here = false;
                let mut rule_drop = BTreeSet::new();
                for (j, c) in r.children.iter().enumerate() {
                    let c_end = inner.get(j + 1).map_or(end, |s| s - 1);
                    if let RuleChild::Scenario(s) = c {
                        kept_here |= keep_scenario(s, inner[j]..=c_end, kept, &mut rule_drop);
                    }
                }
                if kept_here {
                    drop.extend(rule_drop);
                    any = true;
                } else {
                    drop.extend(block);
                }
            }
        }
    }
    if !any {
        return None;
    }
    let mut out: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(&(i + 1)))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    if !source.ends_with('\n') {
        out.pop();
    }
    Some(out)
}

/// Marks what of `s` goes; whether any of it stays.
fn keep_scenario(
    s: &Scenario,
    block: std::ops::RangeInclusive<usize>,
    kept: &BTreeSet<usize>,
    drop: &mut BTreeSet<usize>,
) -> bool {
    if s.examples.is_empty() {
        if kept.contains(&s.location.line) {
            return true;
        }
        drop.extend(block);
        return false;
    }
    let rows: Vec<usize> = s
        .examples
        .iter()
        .flat_map(|e| e.table_body.iter().map(|r| r.location.line))
        .collect();
    if !rows.iter().any(|r| kept.contains(r)) {
        drop.extend(block);
        return false;
    }
    drop.extend(rows.into_iter().filter(|r| !kept.contains(r)));
    true
}

fn first_line(tags: &[Tag], line: usize) -> usize {
    tags.iter().map(|t| t.location.line).min().unwrap_or(line).min(line)
}

fn start_of_background(b: &Background) -> usize {
    b.location.line
}

fn start_of_feature_child(c: &FeatureChild) -> usize {
    match c {
        FeatureChild::Background(b) => start_of_background(b),
        FeatureChild::Scenario(s) => first_line(&s.tags, s.location.line),
        FeatureChild::Rule(r) => first_line(&r.tags, r.location.line),
    }
}

fn start_of_rule_child(c: &RuleChild) -> usize {
    match c {
        RuleChild::Background(b) => start_of_background(b),
        RuleChild::Scenario(s) => first_line(&s.tags, s.location.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEATURE: &str = "@api
Feature: Tickets and incidents
  Background:
    Given the contract \"c\"

  # about the first
  Scenario: one
    When I call \"a\"

  @slow
  Scenario Outline: two <n>
    When I call \"b\"
    Examples:
      | n |
      | 1 |
      | 2 |

  Rule: a rule
    Scenario: three
      When I call \"c\"
";

    fn parsed(text: &str) -> crate::gherkin::ast::Feature {
        crate::gherkin::parse(text, "f.feature", Default::default())
            .unwrap()
            .document
            .feature
            .unwrap()
    }

    #[test]
    fn only_the_kept_scenarios_and_rows_remain_with_the_header_and_background() {
        let f = parsed(FEATURE);
        // Row "| 2 |" is line 16.
        let out = cut(FEATURE, &f, &BTreeSet::from([16]), false).unwrap();
        assert_eq!(
            out,
            "@api
Feature: Tickets and incidents
  Background:
    Given the contract \"c\"

  @slow
  Scenario Outline: two <n>
    When I call \"b\"
    Examples:
      | n |
      | 2 |

"
        );
        // What is left parses, and expands to the one row kept.
        let again = parsed(&out);
        assert_eq!(again.children.len(), 2);

        let out = cut(FEATURE, &f, &BTreeSet::from([7, 19]), false).unwrap();
        assert!(out.contains("# about the first\n  Scenario: one") && out.contains("Rule: a rule"));
        assert!(!out.contains("Outline"), "{out}");
        assert_eq!(cut(FEATURE, &f, &BTreeSet::new(), false), None);
    }
}
