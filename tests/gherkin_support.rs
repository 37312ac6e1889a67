//! Everything Gherkin allows works: Rule, Background per rule, Scenario Outline with tagged
//! Examples, data tables, doc strings with either delimiter and a media type, `# language:`.

mod common;
use common::*;

fn run(ws: &std::path::Path, partner: &Partner, extra: &[&str]) -> Output {
    run_live(ws, partner, extra)
}

const RICH: &str = r#"@rich
Feature: Rich Gherkin
  Background:
    Given the contract "support-escalation"

  Rule: Tickets are created from tables and doc strings

    Background:
      Given the variable "customer" is "C-42"

    Scenario: A body from a data table
      Given the request body has the fields:
        | field       | value           |
        | title       | From a table    |
        | priority    | low             |
        | customer_id | ${customer}     |
      When I call "createTicket"
      Then the response status is 201
      And the response body matches:
        ```json
        { "title": "From a table", "customer_id": "C-42" }
        ```

    Scenario Outline: Priorities from tagged examples
      Given the next request <verdict> the contract
      When I call "createTicket" with the body:
        """application/json
        { "title": "Outline", "priority": "<priority>", "customer_id": "${customer}" }
        """
      Then the response status is <status>

      @valid
      Examples: valid
        | priority | status | verdict |
        | low      | 201    | keeps   |
        | high     | 201    | keeps   |

      @invalid
      Examples: invalid
        | priority | status | verdict |
        | urgent   | 422    | breaks  |
"#;

const FRENCH: &str = "# language: fr\nFonctionnalité: Tickets en français\n  Scénario: Lire la liste\n    Soit the contract \"support-escalation\"\n    Quand I call \"listTickets\"\n    Alors the response status is 200\n";

#[test]
fn rules_tables_both_doc_string_delimiters_and_outlines_run() {
    let partner = start_partner(&[]);
    let ws = workspace_copy();
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    std::fs::write(ws.path().join("features/rich.feature"), RICH).unwrap();
    std::fs::write(ws.path().join("features/french.feature"), FRENCH).unwrap();
    let out = run(ws.path(), &partner, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("5 scenarios (5 passed)"), "{}", out.stdout);
}

#[test]
fn tags_on_examples_select_rows() {
    let partner = start_partner(&[]);
    let ws = workspace_copy();
    std::fs::write(ws.path().join("features/rich.feature"), RICH).unwrap();
    let out = run(ws.path(), &partner, &["--tags", "@invalid"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 scenario (1 passed)"), "{}", out.stdout);
    let out = run(ws.path(), &partner, &["--tags", "@rich and not @invalid"]);
    // The table scenario and the two @valid rows.
    assert!(out.stdout.contains("3 scenarios (3 passed)"), "{}", out.stdout);
}

#[test]
fn fail_fast_stops_starting_scenarios() {
    let partner = start_partner(&["--drift"]);
    let all = run(&repo(), &partner, &["--jobs", "1"]);
    let fast = run(&repo(), &partner, &["--jobs", "1", "--fail-fast"]);
    assert_eq!(all.code, 1);
    assert_eq!(fast.code, 1, "{}", fast.all());
    let count = |o: &Output| {
        o.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("Scenario"))
            .count()
    };
    assert!(
        count(&fast) < count(&all),
        "fail-fast ran {} scenarios, all ran {}",
        count(&fast),
        count(&all)
    );
}

#[test]
fn a_byte_order_mark_is_accepted_in_features_contracts_and_recordings() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    let recording = std::fs::read_dir(ws.path().join("recordings/ticketing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    for file in [
        ws.path().join("features/tickets.feature"),
        ws.path().join("contracts/support-escalation.yaml"),
        recording,
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("\u{feff}{text}")).unwrap();
    }
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = contrail(ws.path(), &["run", "features/tickets.feature", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// Markdown with Gherkin (`.feature.md`) is found and run: the Markdown rendition of a bundled
/// scenario is the same scenario (same names and steps), so it replays the same recordings and
/// passes; the same file with a wrong expectation fails.
#[test]
fn markdown_with_gherkin_runs_against_the_same_recordings() {
    let ws = workspace_copy();
    copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    let md = "# Feature: The ticketing API keeps its contract\n\nThe same scenario as in `tickets.feature`, written as Markdown.\n\n## Background:\n\n* Given the contract \"support-escalation\"\n\n## Scenario: An unknown ticket is a 404 with an error body\n\nA prose paragraph between the heading and the steps.\n\n* Given the path parameter \"id\" is \"T-999999\"\n* When I call \"getTicket\"\n* Then the response status is 404\n* And the response matches the contract\n* And the response body matches:\n  ```json\n  { \"error\": \"not_found\", \"message\": \"#string\" }\n  ```\n";
    let file = ws.path().join("features/tickets.feature.md");
    std::fs::write(&file, md).unwrap();
    let lint = contrail(ws.path(), &["lint"]);
    assert!(
        lint.stdout.contains("1 feature file(s), 1 scenario(s)"),
        "{}",
        lint.all()
    );
    let out = contrail(ws.path(), &["run", "--target", "replay", "--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 scenario (1 passed)"), "{}", out.stdout);

    std::fs::write(&file, md.replace("\"not_found\"", "\"gone\"")).unwrap();
    let out = contrail(ws.path(), &["run", "--target", "replay", "--color", "never"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("/error: expected \"gone\", got \"not_found\""),
        "{}",
        out.stdout
    );
}

/// Every syntax error in a file is reported, each at the line and column the official
/// parsers give, in one message per error (no parser internals).
#[test]
fn every_syntax_error_is_reported_at_its_line_and_column() {
    let ws = tiny_workspace(
        "contract: tiny\nversion: \"1\"\npartners: {}\n",
        "\ninvalid line here\n\nFeature: Two errors\n\n  Scenario: s\n    Given the variable \"a\" is \"b\"\n\nanother invalid line here\n",
    );
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("features/f.feature:2:1") && out.stderr.contains("features/f.feature:9:1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("unexpected \"another invalid line here\""),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("#EOF"), "{}", out.stderr);
}

/// What the official parsers accept, contrail accepts: an empty file, a feature with no
/// scenarios yet, escaped pipes and `\n` in cells, a placeholder no Examples column names
/// (kept as written). (Every other case of the official data: tests/gherkin_conformance.rs.)
#[test]
fn gherkin_that_official_parsers_accept_is_accepted() {
    let ws = tiny_workspace("contract: tiny\nversion: \"1\"\npartners: {}\n", "");
    std::fs::write(
        ws.path().join("features/later.feature"),
        "Feature: Nothing yet\n  Written down first.\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("features/rich.feature"),
        "Feature: Rich\n  Scenario: Escapes in a table\n    Given the request body has the fields:\n      | field | value      |\n      | title | a \\| b c\\nd |\n\n  Scenario Outline: <kept> stays <x>\n    Given the variable \"v\" is \"<x>\"\n\n    Examples:\n      | x    |\n      | one  |\n      | two  |\n",
    )
    .unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // The empty file holds no feature; the outline's two rows are two scenarios, as a run
    // counts them.
    assert!(
        out.stdout.contains("2 feature file(s), 3 scenario(s)"),
        "{}",
        out.stdout
    );
    let out = contrail(ws.path(), &["run", "--color", "never", "--name", "stays"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("<kept> stays one"), "{}", out.stdout);
    assert!(out.stdout.contains("2 scenarios (2 passed)"), "{}", out.stdout);
}

const TABLE_STEPS: &str = r#"steps:
  - phrase: 'these tickets exist:'
    summary: Opens one ticket per row (title, priority).
    table: true
    do:
      - each row:
          - step: 'I call "createTicket" with the body:'
            docstring: '{ "title": "${row.title}", "priority": "${row.priority}", "customer_id": "C-9" }'
          - the response status is 201
  - phrase: 'a ticket with these fields is created:'
    summary: Opens a ticket from a field | value table.
    table: true
    do:
      - step: 'the request body has the fields:'
        table: ${table}
      - I call "createTicket"
      - the response status is 201
"#;

const TABLE_FEATURE: &str = r#"Feature: Declarative steps take tables
  Background:
    Given the contract "support-escalation"

  Scenario: One ticket per row
    Given these tickets exist:
      | title  | priority |
      | First  | low      |
      | Second | high     |
    Then the response field "title" is "Second"

  Scenario: A ticket from fields
    Given a ticket with these fields is created:
      | field       | value  |
      | title       | Fields |
      | priority    | med    |
      | customer_id | C-3    |
    Then the response field "title" is "Fields"
"#;

/// A declarative phrase takes a data table and passes it on whole or runs its steps once per
/// row; a bad row fails the scenario naming the row, and the rows before it ran.
#[test]
fn declarative_steps_take_tables() {
    let partner = start_partner(&[]);
    let ws = workspace_copy();
    std::fs::remove_dir_all(ws.path().join("features")).unwrap();
    std::fs::create_dir_all(ws.path().join("features")).unwrap();
    std::fs::write(ws.path().join("steps/tables.yaml"), TABLE_STEPS).unwrap();
    std::fs::write(ws.path().join("features/tables.feature"), TABLE_FEATURE).unwrap();
    let out = run(ws.path(), &partner, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("2 scenarios (2 passed)"), "{}", out.stdout);

    std::fs::write(
        ws.path().join("features/tables.feature"),
        TABLE_FEATURE.replace("| Second | high     |", "| Second | urgent   |"),
    )
    .unwrap();
    let out = run(ws.path(), &partner, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("these tickets exist: -> I call \"createTicket\" with the body: (table row 3)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("/priority"), "{}", out.stdout);
}
