//! The files of a new workspace (`contrail init`): a contract with one operation inline and a
//! feature that runs green against contrail's own mock, each commented so a newcomer learns
//! the format from it. No I/O here.

pub const TOML: &str = r#"# A contrail workspace (made by `contrail init`). Paths are relative to this file.

[paths]
features = "features"
contracts = "contracts"
steps = "steps"
recordings = "recordings"

[run]
# What `contrail run` talks to without --target: "replay" (contrail's mock server, offline and
# deterministic), "live" (each partner's sandbox, below) or "record" (live, and kept in
# recordings/ for replay).
target = "replay"

# A partner's sandbox; `--base-url example=URL` overrides it for one run.
# [partners.example]
# live = "https://sandbox.example.com"
"#;

pub const CONTRACT: &str = r#"# An integration contract: what a partner's API must keep for this integration to work,
# including what OpenAPI cannot say (credentials and scopes, rate limits, latency, webhooks,
# fields to redact). docs/contracts.md in contrail's repository describes every key.
contract: example
version: 0.1.0
story: >
  Replace this with what the integration does, in a sentence or two.

partners:
  example:
    description: The partner's API (rename it, and point `live` in contrail.toml at its sandbox).
    # Who to tell when the live API breaks the contract (shown in drift reports).
    contact: api-team@partner.example
    # The API's shape: an OpenAPI document (`openapi: openapi/example.yaml`, relative to this
    # file), or operations written inline as here.
    operations:
      - id: getWidget
        method: GET
        path: /widgets/{id}
        responses:
          "200":
            schema:
              type: object
              required: [id, name]
              properties:
                id: { type: string, pattern: "^W-[0-9]+$" }
                name: { type: string, minLength: 1 }
          "404":
            schema:
              type: object
              required: [error]
              properties:
                error: { type: string }
    # How requests authenticate; secrets always come from the environment, never this file:
    # auth:
    #   type: oauth2-client-credentials
    #   token_url: /oauth/token
    #   client_id: ${env:EXAMPLE_CLIENT_ID}
    #   client_secret: ${env:EXAMPLE_CLIENT_SECRET}
    #   scopes: { "widgets:read": Read widgets }
    rate_limit: { requests: 10, per: 1s }
    latency_budget: 500ms

# Fields never written to a recording.
redact:
  - header: X-Api-Key
"#;

pub const FEATURE: &str = r#"# A feature file: the contract's happy paths and edge cases, in Gherkin. `contrail steps`
# lists every step you can use; steps/*.yaml can add your own phrases made of them.
Feature: The example partner keeps its contract

  Background:
    Given the contract "example"

  # Until recordings exist, the mock is told what to answer. Record the real sandbox's answers
  # with `contrail run --target record` once `live` is set in contrail.toml, and remove the
  # "answers the next" lines.
  Scenario: A widget can be read
    Given "example" answers the next 1 "getWidget" calls with 200 and the body:
      """json
      { "id": "W-1", "name": "Sprocket" }
      """
    And the path parameter "id" is "W-1"
    When I call "getWidget"
    Then the response status is 200
    And the response matches the contract
    And the response field "name" is "Sprocket"

  Scenario: An unknown widget is a 404 with an error body
    Given "example" answers the next 1 "getWidget" calls with 404 and the body:
      """json
      { "error": "not_found" }
      """
    And the path parameter "id" is "W-404"
    When I call "getWidget"
    Then the response status is 404
    And the response matches the contract
"#;

pub const STEPS: &str = r#"# Your own steps: a domain phrase made of built-in steps, so feature files read as your
# team speaks. `contrail steps` lists them with the built-in ones.
steps:
  - phrase: the widget {id} exists
    summary: Reads the widget and checks that it is there.
    example: Given the widget "W-1" exists
    do:
      - the path parameter "id" is "${id}"
      - I call "getWidget"
      - the response status is 200
"#;
