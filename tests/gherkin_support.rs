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
