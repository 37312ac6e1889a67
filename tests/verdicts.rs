//! Verdicts you can trust: what the contract declares beyond a body schema is checked, and
//! each check is proven both ways, the same scenario passing against a partner that keeps the
//! contract and failing, with the place named, against one that does not.

mod common;
use common::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONTRACT: &str = r#"contract: verdicts
version: "1"
partners:
  api:
    openapi: openapi/api.yaml
"#;

/// A 429 that must carry Retry-After in seconds, and a 200 whose `X-Request-Id` is optional
/// but must be a UUID-like token when sent.
const OPENAPI: &str = r#"openapi: 3.1.0
info: { title: api, version: "1" }
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200':
          description: the things
          headers:
            X-Request-Id:
              schema: { type: string, pattern: '^[0-9a-f-]{36}$' }
            X-Total-Count:
              $ref: '#/components/headers/Count'
          content:
            application/json:
              schema: { type: array }
        '429':
          description: slow down
          headers:
            Retry-After:
              required: true
              schema: { type: integer, minimum: 0 }
          content:
            application/json:
              schema: { type: object }
components:
  headers:
    Count:
      required: true
      schema: { $ref: '#/components/schemas/Count' }
  schemas:
    Count: { type: integer, minimum: 0 }
"#;

const THROTTLED: &str = "Feature: headers
  Scenario: a throttled answer keeps the contract
    Given the contract \"verdicts\"
    When I call \"listThings\"
    Then the response status is 429
    And the response matches the contract
";

const LISTED: &str = "Feature: headers
  Scenario: a list keeps the contract
    Given the contract \"verdicts\"
    When I call \"listThings\"
    Then the response status is 200
    And the response matches the contract
";

async fn partner(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

async fn run(server: &MockServer, feature: &'static str) -> Output {
    let uri = server.uri();
    tokio::task::spawn_blocking(move || {
        let ws = tiny_workspace(CONTRACT, feature);
        std::fs::write(ws.path().join("contracts/openapi/api.yaml"), OPENAPI).unwrap();
        contrail(
            ws.path(),
            &[
                "run",
                "--color",
                "never",
                "--target",
                "live",
                "--base-url",
                &format!("api={uri}"),
            ],
        )
    })
    .await
    .unwrap()
}

fn json(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(if status == 200 {
        serde_json::json!([])
    } else {
        serde_json::json!({})
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declared_required_response_header_is_checked_present_and_typed() {
    let good = partner(json(429).insert_header("Retry-After", "5")).await;
    let out = run(&good, THROTTLED).await;
    assert_eq!(out.code, 0, "{}", out.all());

    let missing = partner(json(429)).await;
    let out = run(&missing, THROTTLED).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("header Retry-After: required by the contract, but missing"),
        "{}",
        out.stdout
    );

    let date = partner(json(429).insert_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")).await;
    let out = run(&date, THROTTLED).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains(r#"header Retry-After: "Wed, 21 Oct 2015 07:28:00 GMT" is not of type "integer""#),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_and_referenced_headers_are_checked_when_sent() {
    let good = partner(
        json(200)
            .insert_header("X-Request-Id", "0b6c3d1e-5f7a-4b8c-9d0e-1f2a3b4c5d6e")
            .insert_header("X-Total-Count", "0"),
    )
    .await;
    let out = run(&good, LISTED).await;
    assert_eq!(out.code, 0, "{}", out.all());

    // The optional header may be absent; the required one (through two `$ref`s) may not be
    // negative.
    let bad = partner(json(200).insert_header("X-Total-Count", "-1")).await;
    let out = run(&bad, LISTED).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("header X-Total-Count: -1 is less than the minimum of 0"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("header X-Request-Id"), "{}", out.stdout);

    let bad = partner(
        json(200)
            .insert_header("X-Request-Id", "not an id")
            .insert_header("X-Total-Count", "3"),
    )
    .await;
    let out = run(&bad, LISTED).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("header X-Request-Id: \"not an id\" does not match"),
        "{}",
        out.stdout
    );
}

/// The simulator plays the partner by the contract, declared headers included: its answers
/// pass the very check that fails a partner leaving them out (above).
#[test]
fn simulated_answers_carry_the_headers_the_contract_requires() {
    let ws = tiny_workspace(CONTRACT, LISTED);
    std::fs::write(ws.path().join("contracts/openapi/api.yaml"), OPENAPI).unwrap();
    let sim = start_mock(ws.path(), "api", &["--simulate"], &[], None);
    let out = contrail(
        ws.path(),
        &[
            "run",
            "--color",
            "never",
            "--target",
            "live",
            "--base-url",
            &format!("api={}", sim.url),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
}
