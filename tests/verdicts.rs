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

const ORDERS_CONTRACT: &str = r#"contract: orders
version: "1"
partners:
  shop:
    openapi: openapi/shop.yaml
"#;

/// Creating an order needs an `Idempotency-Key` header, a `dry_run` flag that is a boolean
/// when given, and a body with a positive quantity.
const SHOP: &str = r#"openapi: 3.0.3
info: { title: shop, version: "1" }
paths:
  /orders:
    post:
      operationId: createOrder
      parameters:
        - name: Idempotency-Key
          in: header
          required: true
          schema: { type: string, minLength: 8 }
        - name: dry_run
          in: query
          schema: { type: boolean }
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [sku, quantity]
              properties:
                sku: { type: string }
                quantity: { type: integer, minimum: 1 }
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: { type: object }
        '400':
          description: refused
          content:
            application/json:
              schema: { type: object }
"#;

async fn shop(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(status).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    server
}

fn orders_workspace(feature: &str) -> tempfile::TempDir {
    let ws = tiny_workspace(ORDERS_CONTRACT, feature);
    std::fs::write(ws.path().join("contracts/openapi/shop.yaml"), SHOP).unwrap();
    ws
}

async fn run_orders(server: &MockServer, feature: String) -> Output {
    let uri = server.uri();
    tokio::task::spawn_blocking(move || {
        let ws = orders_workspace(&feature);
        contrail(
            ws.path(),
            &[
                "run",
                "--color",
                "never",
                "--target",
                "live",
                "--base-url",
                &format!("shop={uri}"),
            ],
        )
    })
    .await
    .unwrap()
}

fn order_feature(steps: &str) -> String {
    format!(
        "Feature: orders\n  Scenario: an order\n    Given the contract \"orders\"\n{steps}    Then the response status is 201\n"
    )
}

const BODY: &str = "      \"\"\"json\n      { \"sku\": \"A-1\", \"quantity\": 2 }\n      \"\"\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_breaks_the_contract_is_not_sent_and_named() {
    // Kept: header, a boolean flag, a valid body.
    let server = shop(201).await;
    let good = order_feature(&format!(
        "    And the header \"Idempotency-Key\" is \"order-0001\"\n    And the query parameter \"dry_run\" is \"true\"\n    When I call \"createOrder\" with the body:\n{BODY}"
    ));
    let out = run_orders(&server, good).await;
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1);

    // The same scenario without the header and with a flag that is no boolean: nothing is
    // sent, and every violation is named.
    let server = shop(201).await;
    let bad = order_feature(&format!(
        "    And the query parameter \"dry_run\" is \"maybe\"\n    When I call \"createOrder\" with the body:\n{BODY}"
    ));
    let out = run_orders(&server, bad).await;
    assert_eq!(out.code, 1, "{}", out.all());
    for expected in [
        "invalid request: the createOrder request breaks the contract (2 violations), so it was not sent",
        "header Idempotency-Key: required by the contract, but missing",
        "query dry_run: \"maybe\" is not of type \"boolean\"",
    ] {
        assert!(out.stdout.contains(expected), "no {expected:?} in\n{}", out.stdout);
    }
    assert!(server.received_requests().await.unwrap_or_default().is_empty());

    // A bad body is named by its pointer.
    let server = shop(201).await;
    let bad = order_feature(
        "    And the header \"Idempotency-Key\" is \"order-0001\"\n    When I call \"createOrder\" with the body:\n      \"\"\"json\n      { \"sku\": \"A-1\", \"quantity\": 0 }\n      \"\"\"\n",
    );
    let out = run_orders(&server, bad).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("body/quantity: 0 is less than the minimum of 1"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_that_means_to_break_the_contract_says_so_and_must_break_it() {
    let refusing = "Feature: orders\n  Scenario: a refusal\n    Given the contract \"orders\"\n    And the header \"Idempotency-Key\" is \"order-0001\"\n    When I call \"createOrder\" with a body that breaks the contract:\n      \"\"\"json\n      { \"sku\": \"A-1\", \"quantity\": 0 }\n      \"\"\"\n    Then the response status is 400\n";
    let server = shop(400).await;
    let out = run_orders(&server, refusing.to_string()).await;
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 1);

    let no_key = format!(
        "Feature: orders\n  Scenario: no key\n    Given the contract \"orders\"\n    And the next request breaks the contract\n    When I call \"createOrder\" with the body:\n{BODY}    Then the response status is 400\n"
    );
    let out = run_orders(&server, no_key).await;
    assert_eq!(out.code, 0, "{}", out.all());

    // Said to break the contract, but it keeps it: the scenario would test nothing.
    let kept = refusing.replace("\"quantity\": 0", "\"quantity\": 3");
    let out = run_orders(&server, kept).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("the createOrder request was meant to break the contract, but it keeps it"),
        "{}",
        out.stdout
    );
}

/// The mock playing the partner judges what a system under test sends the same way, every
/// violation listed; a request that keeps the contract is answered.
#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_refuses_what_a_system_under_test_sends_against_the_contract() {
    let ws = orders_workspace(&order_feature(""));
    let dir = ws.path().to_path_buf();
    let sim = tokio::task::spawn_blocking(move || start_mock(&dir, "shop", &["--simulate"], &[], None))
        .await
        .unwrap();
    contrail::client::install_crypto_provider();
    let client = reqwest::Client::new();
    let url = format!("{}/orders", sim.url);
    let refused = client
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"sku": "A-1", "quantity": 0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    let details = body["details"].to_string();
    assert!(
        details.contains("header Idempotency-Key: required by the contract, but missing"),
        "{details}"
    );
    assert!(details.contains("body/quantity"), "{details}");

    let kept = client
        .post(&url)
        .header("content-type", "application/json")
        .header("idempotency-key", "order-0001")
        .body(r#"{"sku": "A-1", "quantity": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status().as_u16(), 201, "{:?}", kept.text().await);
}

/// `that request's body is exactly:` is the strict twin of `matches:`: the bundled scenario
/// passes with the whole body, and the same scenario expecting a part of it fails, naming the
/// fields it did not expect.
#[test]
fn a_journal_body_is_exactly_what_it_says() {
    let run = |edit: &dyn Fn(&str) -> String| {
        let ws = workspace_copy();
        copy_dir(&repo().join("recordings"), &ws.path().join("recordings"));
        let feature = ws.path().join("features/faults.feature");
        let text = std::fs::read_to_string(&feature).unwrap();
        let edited = edit(&text);
        std::fs::write(&feature, edited).unwrap();
        contrail(
            ws.path(),
            &[
                "run",
                "--color",
                "never",
                "features/faults.feature",
                "--name",
                "Two throttled answers",
            ],
        )
    };
    let out = run(&|t| t.to_string());
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run(&|t| {
        let part = t.replace(
            r##"{ "title": "Disk full", "severity": 2, "link": "#regex https://desk\\.example/tickets/T-[0-9]+", "external_id": "T-9007" }"##,
            r#"{ "title": "Disk full", "severity": 2 }"#,
        );
        assert_ne!(part, t, "the bundled scenario changed");
        part
    });
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("the body of POST /incidents does not match"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("/link"), "{}", out.stdout);
}

/// 401 and 403 are named for what they are, from the answer's challenge and the operation's
/// declared scopes; the same scenario against a partner that lets the call in passes.
#[tokio::test(flavor = "multi_thread")]
async fn auth_failures_are_named_unauthenticated_or_forbidden_with_the_missing_scope() {
    const SCOPED: &str = r#"openapi: 3.1.0
info: { title: api, version: "1" }
paths:
  /things:
    get:
      operationId: listThings
      security:
        - oauth: [things:read]
      responses:
        '200':
          description: the things
          content:
            application/json:
              schema: { type: array }
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: /oauth/token
          scopes:
            things:read: read things
"#;
    /// The run's output, its JUnit report appended to stderr.
    async fn run_scoped(server: &MockServer) -> Output {
        let uri = server.uri();
        tokio::task::spawn_blocking(move || {
            let ws = tiny_workspace(CONTRACT, LISTED);
            std::fs::write(ws.path().join("contracts/openapi/api.yaml"), SCOPED).unwrap();
            let junit = ws.path().join("junit.xml");
            let base = format!("api={uri}");
            let junit_arg = junit.display().to_string();
            let mut out = contrail(
                ws.path(),
                &[
                    "run",
                    "--color",
                    "never",
                    "--target",
                    "live",
                    "--base-url",
                    &base,
                    "--junit",
                    &junit_arg,
                ],
            );
            out.stderr
                .push_str(&std::fs::read_to_string(&junit).unwrap_or_default());
            out
        })
        .await
        .unwrap()
    }
    let open = partner(json(200)).await;
    let out = run_scoped(&open).await;
    assert_eq!(out.code, 0, "{}", out.all());

    let challenge = r#"Bearer error="insufficient_scope", scope="things:read""#;
    let forbidden = partner(json(403).insert_header("WWW-Authenticate", challenge)).await;
    let out = run_scoped(&forbidden).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "forbidden: missing scope things:read (listThings answered 403; WWW-Authenticate: {challenge}); expected status 200"
        )),
        "{}",
        out.stdout
    );
    // JUnit says the class.
    assert!(
        out.stderr
            .contains(r#"<failure type="forbidden" message="forbidden: missing scope things:read"#),
        "{}",
        out.stderr
    );
    // Without a challenge, the operation's declared scopes say which one it needs.
    let forbidden = partner(json(403)).await;
    let out = run_scoped(&forbidden).await;
    assert!(
        out.stdout
            .contains("forbidden: missing scope things:read (listThings answered 403; no WWW-Authenticate challenge)"),
        "{}",
        out.stdout
    );

    let challenge = r#"Bearer error="invalid_token", error_description="the access token expired""#;
    let unauthenticated = partner(json(401).insert_header("WWW-Authenticate", challenge)).await;
    let out = run_scoped(&unauthenticated).await;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("unauthenticated: the access token expired (listThings answered 401; WWW-Authenticate: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(r#"<failure type="unauthenticated""#),
        "{}",
        out.stderr
    );
}

/// The simulator enforces the contract's auth whatever its type, per operation: an API key
/// or a bearer token where the operation is protected, nothing where it is public, and every
/// call refused when the credential is not set (fail closed).
#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_enforces_api_key_and_bearer_auth_per_operation() {
    const KEYED: &str = r#"openapi: 3.1.0
info: { title: api, version: "1" }
security:
  - key: []
paths:
  /things:
    get:
      operationId: listThings
      responses:
        '200':
          description: the things
          content:
            application/json:
              schema: { type: array }
  /health:
    get:
      operationId: health
      security: []
      responses:
        '200':
          description: up
          content:
            application/json:
              schema: { type: object }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-Api-Key }
"#;
    contrail::client::install_crypto_provider();
    let client = reqwest::Client::new();
    for (auth, good, wrong) in [
        (
            "    auth: { type: api-key, header: X-Api-Key, value: \"${env:VERDICTS_KEY:-k-123}\" }\n",
            ("x-api-key", "k-123"),
            ("x-api-key", "k-999"),
        ),
        (
            "    auth: { type: bearer, token: \"${env:VERDICTS_TOKEN:-t-123}\" }\n",
            ("authorization", "Bearer t-123"),
            ("authorization", "Bearer t-999"),
        ),
    ] {
        let contract = format!("{CONTRACT}{auth}");
        let ws = tiny_workspace(&contract, LISTED);
        std::fs::write(ws.path().join("contracts/openapi/api.yaml"), KEYED).unwrap();
        let dir = ws.path().to_path_buf();
        let sim = tokio::task::spawn_blocking(move || start_mock(&dir, "api", &["--simulate"], &[], None))
            .await
            .unwrap();
        let things = format!("{}/things", sim.url);
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(status(client.get(&things).send().await.unwrap()), 401, "{auth}");
        let refused = client.get(&things).header(wrong.0, wrong.1).send().await.unwrap();
        assert_eq!(refused.status().as_u16(), 401, "{auth}");
        assert!(refused.headers().get("www-authenticate").is_some(), "{auth}");
        let admitted = client.get(&things).header(good.0, good.1).send().await.unwrap();
        assert_eq!(status(admitted), 200, "{auth}");
        let health = client.get(format!("{}/health", sim.url)).send().await.unwrap();
        assert_eq!(status(health), 200, "a public operation: {auth}");
        drop(sim);

        // The credential is not set: nobody gets in.
        let unset = contract.replace(":-k-123}", "}").replace(":-t-123}", "}");
        std::fs::write(ws.path().join("contracts/c.yaml"), unset).unwrap();
        let dir = ws.path().to_path_buf();
        let sim = tokio::task::spawn_blocking(move || start_mock(&dir, "api", &["--simulate"], &[], None))
            .await
            .unwrap();
        let refused = client
            .get(format!("{}/things", sim.url))
            .header(good.0, good.1)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 401, "fail closed: {auth}");
    }
}

/// A scope the contract does not declare is a lint error: in an inline operation, in a step,
/// and in an OpenAPI operation a feature calls.
#[test]
fn a_scope_the_contract_does_not_declare_is_a_lint_error() {
    let contract = |op_scope: &str| {
        format!(
            r#"contract: scoped
version: "1"
partners:
  api:
    auth:
      type: oauth2-client-credentials
      token_url: /oauth/token
      client_id: me
      client_secret: "${{env:SCOPED_SECRET:-s}}"
      scopes:
        things:read: Read things
    operations:
      - id: listThings
        method: GET
        path: /things
        scopes: [{op_scope}]
        responses:
          "200": {{ schema: {{ type: array }} }}
"#
        )
    };
    let feature = |scopes: &str| {
        format!(
            "Feature: scoped\n  Scenario: read\n    Given the contract \"scoped\"\n    And I authenticate with the scopes \"{scopes}\"\n    When I call \"listThings\"\n    Then the response status is 200\n"
        )
    };
    let lint = |c: &str, f: &str| {
        let ws = tiny_workspace(c, f);
        contrail(ws.path(), &["lint"])
    };
    let out = lint(&contract("things:read"), &feature("things:read"));
    assert_eq!(out.code, 0, "{}", out.all());

    let out = lint(&contract("things:write"), &feature("things:read"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all()
            .contains(r#"the operation "listThings" names the scope "things:write", which partner "api"'s auth does not declare (declared: things:read)"#),
        "{}",
        out.all()
    );

    let out = lint(&contract("things:read"), &feature("things:raed"));
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains(
            r#"the scope "things:raed" is not declared by the contract "scoped" (its auth scopes: things:read)"#
        ),
        "{}",
        out.all()
    );

    // An OpenAPI operation that a feature calls needs a scope the contract never asks for.
    let spec = "openapi: 3.1.0\ninfo: { title: api, version: \"1\" }\npaths:\n  /things:\n    get:\n      operationId: listThings\n      security:\n        - oauth: [things:write]\n      responses:\n        '200': { description: ok }\n";
    let with_spec = contract("things:read")
        .split("    operations:")
        .next()
        .unwrap_or_default()
        .replace("    auth:", "    openapi: openapi/api.yaml\n    auth:");
    let ws = tiny_workspace(&with_spec, &feature("things:read"));
    std::fs::write(ws.path().join("contracts/openapi/api.yaml"), spec).unwrap();
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains(
            r#"listThings needs the scope "things:write", which the contract "scoped" does not declare for "api" (its auth scopes: things:read)"#
        ),
        "{}",
        out.all()
    );
}

/// `formats: warn` (the default) says a format miss and passes; `assert` fails the same
/// scenario on it; `ignore` says nothing.
#[tokio::test(flavor = "multi_thread")]
async fn format_misses_follow_the_contracts_choice() {
    let contract = |mode: &str| {
        format!(
            "contract: fmt\nversion: \"1\"\n{mode}partners:\n  api:\n    operations:\n      - id: getUser\n        method: GET\n        path: /things\n        responses:\n          \"200\":\n            schema: {{ type: object, properties: {{ email: {{ type: string, format: email }}, site: {{ type: string, format: uri }} }} }}\n"
        )
    };
    let feature = "Feature: f\n  Scenario: a user\n    Given the contract \"fmt\"\n    When I call \"getUser\"\n    Then the response matches the contract\n";
    let server =
        partner(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "email": "bot@", "site": "" }))).await;
    let uri = server.uri();
    let run = move |mode: &'static str| {
        let uri = uri.clone();
        let c = contract(mode);
        tokio::task::spawn_blocking(move || {
            let ws = tiny_workspace(&c, feature);
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
    };
    let out = run("").await.unwrap();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("misses a format (the contract says formats: warn)") && out.stderr.contains("/email"),
        "{}",
        out.stderr
    );

    let out = run("formats: assert\n").await.unwrap();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("/email: \"bot@\" is not a \"email\""),
        "{}",
        out.stdout
    );

    let out = run("formats: ignore\n").await.unwrap();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("misses a format"), "{}", out.stderr);
}

/// A JavaScript pattern the Rust engines refuse (`\p{XDigit}`) no longer breaks the contract:
/// it loads with a warning at the keyword, and values are checked by what it means.
#[tokio::test(flavor = "multi_thread")]
async fn a_javascript_pattern_loads_with_a_warning_and_still_checks() {
    let contract = "contract: pat\nversion: \"1\"\npartners:\n  api:\n    operations:\n      - id: getColour\n        method: GET\n        path: /things\n        responses:\n          \"200\":\n            schema: { type: object, properties: { hex: { type: string, pattern: '^\\p{XDigit}{6}$' } } }\n";
    let feature = "Feature: f\n  Scenario: a colour\n    Given the contract \"pat\"\n    When I call \"getColour\"\n    Then the response matches the contract\n";
    let ws = tiny_workspace(contract, feature);
    let out = contrail(ws.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("(at /partners/api/operations/0/responses/200/schema/properties/hex/pattern)")
            && out.stderr.contains("checked as \"^[0-9A-Fa-f]{6}$\""),
        "{}",
        out.stderr
    );
    for (hex, code) in [("c0ffee", 0), ("coffee", 1)] {
        let server = partner(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "hex": hex }))).await;
        let uri = server.uri();
        let dir = ws.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            contrail(
                &dir,
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
        .unwrap();
        assert_eq!(out.code, code, "{hex}: {}", out.all());
    }
}
