//! Parse 1,000 feature files of 100 scenarios each (backgrounds, outlines with Examples, doc
//! strings, tables, tags, comments) with contrail's Gherkin parser and with the parser under
//! cucumber-rs (crate `gherkin`), in the same run, files read from disk by both. Prints the
//! figures and their ratio; asserts nothing.
//!
//!     cargo bench --bench gherkin_parse

use std::time::{Duration, Instant};

fn feature(n: usize) -> String {
    let mut s = format!(
        "# A generated feature\n@generated @file-{n}\nFeature: Generated feature {n}\n  Tickets become incidents.\n\n  Background:\n    Given the contract \"support-escalation\"\n    And a ticket with these fields:\n      | field    | value |\n      | priority | high  |\n\n"
    );
    for i in 0..100 {
        match i % 4 {
            0 => s.push_str(&format!(
                "  @smoke\n  Scenario: plain {i}\n    When I call \"getTicket\" with id \"T-{i}\"\n    Then the response status is 200\n    And the response body matches:\n      \"\"\"json\n      {{ \"id\": \"T-{i}\", \"title\": \"#string\" }}\n      \"\"\"\n\n"
            )),
            1 => s.push_str(&format!(
                "  Scenario Outline: outline {i} <priority>\n    When \"ticketing\" sends the \"ticket.escalated\" webhook with priority \"<priority>\"\n    Then within 5 seconds \"incidents\" answers 1 \"createIncident\" requests with 201\n\n    @rows\n    Examples:\n      | priority | severity |\n      | high     | 1        |\n      | med      | 2        |\n      | low      | 3        |\n\n"
            )),
            2 => s.push_str(&format!(
                "  # a comment before the scenario\n  Scenario: table {i}\n    Given these tickets:\n      | id   | title         | priority |\n      | T-1  | Printer \\| on | high     |\n      | T-2  | Disk full     | low      |\n    Then the response matches the contract\n\n"
            )),
            _ => s.push_str(&format!(
                "  Scenario: described {i}\n    A description line\n    and another.\n\n    Given the partner is in state \"a ticket T-{i} exists\"\n    When I call \"listTickets\"\n    Then the response status is 200\n\n"
            )),
        }
    }
    s
}

fn main() {
    let files = 1_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    let mut bytes = 0;
    for n in 0..files {
        let p = dir.path().join(format!("f{n}.feature"));
        let text = feature(n);
        bytes += text.len();
        std::fs::write(&p, text).expect("write");
        paths.push(p);
    }
    println!("{files} files of 100 scenarios, {:.1} MB", bytes as f64 / 1e6);
    let mut ours = Duration::MAX;
    let mut theirs = Duration::MAX;
    // Alternate, three rounds each, keep the best: the machine is shared.
    for _ in 0..3 {
        let t = Instant::now();
        let mut scenarios = 0;
        for p in &paths {
            if let Ok(Some(f)) = contrail::feature::parse(p) {
                scenarios += f.scenarios.len();
            }
        }
        ours = ours.min(t.elapsed());
        assert_eq!(scenarios, files * 150, "contrail: every row a scenario");

        let t = Instant::now();
        let mut parsed = 0;
        for p in &paths {
            if let Ok(f) = cucumber::gherkin::Feature::parse_path(p, Default::default()) {
                parsed += f.scenarios.len();
            }
        }
        theirs = theirs.min(t.elapsed());
        assert_eq!(parsed, files * 100, "gherkin crate: outlines unexpanded");
    }
    println!(
        "contrail::gherkin (parse + expand outlines + convert): {:.2} s\ngherkin 0.16 (parse only):                            {:.2} s\nratio: {:.2}",
        ours.as_secs_f64(),
        theirs.as_secs_f64(),
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
