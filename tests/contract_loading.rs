//! Contract and OpenAPI loading: good documents, malformed ones with exact locations, `$ref`
//! resolution within and across files, OAS 3.0 -> JSON Schema translation, OAS 3.1 specifics.

use std::path::Path;

use contrail::contract::{Contract, SchemaRef};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A contract whose one partner `p` is described by the OpenAPI document `spec`.
fn write_contract(dir: &Path, spec: &str) {
    write(
        dir,
        "c.yaml",
        &format!("contract: c\nversion: \"1\"\npartners:\n  p:\n    openapi: {spec}\n"),
    );
}

fn contract_with_spec(spec: &str) -> (tempfile::TempDir, Result<Contract, contrail::diag::Diagnostics>) {
    let dir = tempfile::tempdir().unwrap();
    write_contract(dir.path(), "spec.yaml");
    write(dir.path(), "spec.yaml", spec);
    let c = Contract::load(&dir.path().join("c.yaml"));
    (dir, c)
}

fn response_schema<'a>(c: &'a Contract, op: &str, status: &str) -> &'a SchemaRef {
    let op = c
        .partner("p")
        .unwrap()
        .operation(op)
        .unwrap_or_else(|| panic!("no operation {op}"));
    op.responses[status].content["application/json"].as_ref().unwrap()
}

fn violations(c: &Contract, op: &str, status: &str, v: Value) -> Vec<String> {
    c.schemas
        .validate(response_schema(c, op, status), &v)
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect()
}

fn spec30(schema: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n{}\n",
        schema
            .lines()
            .map(|l| format!("                {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn the_bundled_contract_loads_with_its_operations() {
    let c = Contract::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/support-escalation.yaml")).unwrap();
    let mut ids: Vec<&str> = c
        .partners
        .values()
        .flat_map(|p| p.operations.iter().map(|o| o.id.as_str()))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "createIncident",
            "createTicket",
            "escalateTicket",
            "getIncident",
            "getTicket",
            "listIncidents",
            "listTickets"
        ]
    );
    let get = c.partner("ticketing").unwrap().operation("getTicket").unwrap();
    assert_eq!(get.scopes, ["tickets:read"]);
    assert_eq!(get.params[0].name, "id", "path-level parameter inherited");
    assert!(c.compile_all().is_empty());
    assert_eq!(
        contrail::contract::apply_mapping(c.mapping("priority_to_severity").unwrap(), None),
        Some(json!(2))
    );
    assert_eq!(
        contrail::contract::apply_mapping(c.mapping("priority_to_severity").unwrap(), Some(&json!("high"))),
        Some(json!(1))
    );
}

#[test]
fn yaml_syntax_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p: {openapi: [x\n",
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err();
    let d = &err.0[0];
    assert!(d.file.ends_with("c.yaml"));
    assert_eq!(d.span.map(|s| (s.line, s.column)), Some((4, 16)), "{d}");
}

#[test]
fn unknown_fields_and_dangling_names_are_located() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p: {}\nobjects:\n  ticket:\n    partner: p\n    fields:\n      priority: {}\nmappings:\n  m:\n    from: ticket.priority\n    to: incident.severity\n    values: {low: 3}\nwebhooks:\n  e:\n    from: nobody\n",
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("c.yaml:13:9: mapping \"m\": no object \"incident\""),
        "{text}"
    );
    assert!(
        text.contains("c.yaml:17:11: webhook \"e\" names the partner \"nobody\""),
        "{text}"
    );

    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    opneapi: spec.yaml\n",
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err();
    assert_eq!(err.0[0].span.map(|s| s.line), Some(5), "{err}");
    assert!(err.0[0].message.contains("opneapi"), "{err}");
}

/// Found by fuzzing (fuzz/regressions/webhook_sign): a signature header HTTP cannot carry was
/// accepted and failed each delivery far from its cause. It now fails the load, at the webhook.
#[test]
fn a_webhook_signature_that_cannot_be_sent_fails_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let contract = |signature: &str| {
        format!(
            "contract: c\nversion: \"1\"\npartners:\n  p: {{}}\nwebhooks:\n  e:\n    from: p\n    signature: {signature}\n"
        )
    };
    write(
        dir.path(),
        "c.yaml",
        &contract("{ style: generic, secret: s, header: X Partner Signature }"),
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err().to_string();
    assert!(
        err.contains(
            "c.yaml:7:11: webhook \"e\": signature header \"X Partner Signature\" is not a header name HTTP can send"
        ),
        "{err}"
    );
    write(dir.path(), "c.yaml", &contract("{ style: stripe-ish, secret: s }"));
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err().to_string();
    assert!(
        err.contains("signature style \"stripe-ish\": use github, stripe"),
        "{err}"
    );
    write(
        dir.path(),
        "c.yaml",
        &contract("{ style: generic, secret: s, header: X-Partner-Signature }"),
    );
    Contract::load(&dir.path().join("c.yaml")).expect("a sendable header loads");
}

/// A webhook's retry policy is read at load: a backoff nobody can read, or no attempt at all,
/// fails there with the file and line, not as the default wait in the middle of a run.
#[test]
fn a_webhook_retry_policy_is_read_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let contract = |retry: &str| {
        format!("contract: c\nversion: \"1\"\npartners:\n  p: {{}}\nwebhooks:\n  e:\n    from: p\n    retry: {retry}\n")
    };
    let load = |retry: &str| {
        write(dir.path(), "c.yaml", &contract(retry));
        Contract::load(&dir.path().join("c.yaml"))
    };
    let err = load("{ attempts: 3, backoff: exponentail 2s }")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.yaml:7:11: webhook \"e\": retry.backoff \"exponentail 2s\": \"exponentail\" is neither"),
        "{err}"
    );
    let err = load("{ attempts: 0 }").unwrap_err().to_string();
    assert!(err.contains("retry.attempts must be 1 or more"), "{err}");

    let c = load("{ attempts: 3, backoff: exponential 2s }").expect("a readable policy loads");
    let r = c.webhook_retries["e"];
    assert_eq!(
        (r.attempts, r.exponential, r.first),
        (3, true, std::time::Duration::from_secs(2))
    );
    let c = load("{ attempts: 2 }").expect("no backoff: the default wait");
    let r = c.webhook_retries["e"];
    assert_eq!((r.exponential, r.first), (false, std::time::Duration::from_millis(500)));
}

#[test]
fn a_missing_openapi_file_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write_contract(dir.path(), "nowhere.yaml");
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err();
    assert_eq!(err.0[0].span.map(|s| (s.line, s.column)), Some((5, 14)), "{err}");
}

#[test]
fn refs_resolve_across_files_and_broken_ones_name_file_and_pointer() {
    let dir = tempfile::tempdir().unwrap();
    write_contract(dir.path(), "spec.yaml");
    write(
        dir.path(),
        "spec.yaml",
        &spec30("$ref: 'shared/common.yaml#/components/schemas/Thing'"),
    );
    write(
        dir.path(),
        "shared/common.yaml",
        "components:\n  schemas:\n    Thing:\n      type: object\n      required: [id]\n      properties:\n        id: {$ref: '#/components/schemas/Id'}\n    Id:\n      type: string\n      pattern: '^T-'\n",
    );
    let c = Contract::load(&dir.path().join("c.yaml")).unwrap();
    assert!(violations(&c, "getX", "200", json!({"id": "T-1"})).is_empty());
    assert_eq!(
        violations(&c, "getX", "200", json!({"id": "X-1"})),
        [r#"/id: "X-1" does not match "^T-""#]
    );

    write(
        dir.path(),
        "shared/common.yaml",
        "components:\n  schemas:\n    Thing:\n      $ref: '#/components/schemas/Gone'\n",
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err().to_string();
    assert!(
        err.contains("common.yaml (at /components/schemas/Thing): broken $ref \"#/components/schemas/Gone\""),
        "{err}"
    );
}

#[test]
fn refs_inside_examples_are_data_not_references() {
    let (_d, c) = contract_with_spec(&spec30(
        "type: object\nexample:\n  $ref: 'nowhere.yaml#/x'\nproperties:\n  default: {type: string}\n  enum: {type: integer}",
    ));
    let c = c.unwrap();
    // Properties named like keywords are still properties.
    assert_eq!(violations(&c, "getX", "200", json!({"default": 1, "enum": 2})).len(), 1);
}

#[test]
fn oas30_nullable_and_exclusive_bounds_are_translated() {
    let (_d, c) = contract_with_spec(&spec30(
        "type: object\nproperties:\n  name: {type: string, nullable: true}\n  level: {type: string, enum: [a, b], nullable: true}\n  count: {type: integer, minimum: 0, exclusiveMinimum: true}\n  ref: {nullable: true, allOf: [{type: integer}]}",
    ));
    let c = c.unwrap();
    assert!(
        violations(
            &c,
            "getX",
            "200",
            json!({"name": null, "level": null, "count": 1, "ref": null})
        )
        .is_empty()
    );
    assert!(violations(&c, "getX", "200", json!({"ref": 3})).is_empty());
    let v = violations(
        &c,
        "getX",
        "200",
        json!({"name": 3, "level": "c", "count": 0, "ref": "x"}),
    );
    assert_eq!(v.len(), 4, "{v:?}");
    assert!(v.iter().any(|m| m.starts_with("/count")), "{v:?}");
}

#[test]
fn oas31_type_arrays_and_const_work() {
    let dir = tempfile::tempdir().unwrap();
    write_contract(dir.path(), "spec.yaml");
    write(
        dir.path(),
        "spec.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nwebhooks:\n  thing: {post: {requestBody: {content: {application/json: {schema: {type: object}}}}}}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n                  a: {type: [string, 'null']}\n                  kind: {const: thing}\n",
    );
    let c = Contract::load(&dir.path().join("c.yaml")).unwrap();
    assert!(violations(&c, "getX", "200", json!({"a": null, "kind": "thing"})).is_empty());
    assert_eq!(violations(&c, "getX", "200", json!({"a": 1, "kind": "other"})).len(), 2);
}

#[test]
fn swagger_2_is_refused_with_a_clear_message() {
    let (_d, c) = contract_with_spec("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n");
    let err = c.unwrap_err().to_string();
    assert!(
        err.contains("spec.yaml (at /swagger): this is a Swagger 2.0 document; contrail reads OpenAPI 3.0 and 3.1"),
        "{err}"
    );
}

#[test]
fn malformed_json_specs_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_contract(dir.path(), "spec.json");
    write(
        dir.path(),
        "spec.json",
        "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {,}\n}\n",
    );
    let err = Contract::load(&dir.path().join("c.yaml")).unwrap_err();
    assert_eq!(err.0[0].span.map(|s| (s.line, s.column)), Some((3, 13)), "{err}");
}

#[test]
fn a_document_without_openapi_field_is_refused() {
    let (_d, c) = contract_with_spec("info: {title: t}\npaths: {}\n");
    assert!(c.unwrap_err().to_string().contains("not an OpenAPI document"));
}

#[test]
fn inline_schemas_work_without_openapi() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    operations:\n      - id: getX\n        method: get\n        path: /x/{id}\n        responses:\n          \"200\":\n            schema: {$ref: '#/definitions/X'}\ndefinitions_holder: 1\n",
    );
    // Unknown top-level keys are refused: the contract format is strict.
    assert!(
        Contract::load(&dir.path().join("c.yaml"))
            .unwrap_err()
            .to_string()
            .contains("definitions_holder")
    );
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    operations:\n      - id: getX\n        method: get\n        path: /x/{id}\n        responses:\n          \"200\":\n            schema: {type: object, required: [id], properties: {id: {type: string}}}\n",
    );
    let c = Contract::load(&dir.path().join("c.yaml")).unwrap();
    let op = c.partner("p").unwrap().operation("getX").unwrap();
    assert_eq!(op.method, "GET");
    assert_eq!(op.match_path("/x/9").unwrap()["id"], "9");
    assert_eq!(
        violations(&c, "getX", "200", json!({})),
        ["/id: required by the contract, but missing"]
    );
}

#[test]
fn a_schema_that_does_not_compile_is_named_by_location() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    operations:\n      - id: good\n        method: get\n        path: /a\n        responses:\n          \"200\":\n            schema: {type: string}\n      - id: bad\n        method: get\n        path: /b\n        responses:\n          \"200\":\n            schema: {type: strng, pattern: \"([unclosed\"}\n",
    );
    let c = Contract::load(&dir.path().join("c.yaml")).unwrap();
    let errors = c.compile_all();
    assert_eq!(errors.len(), 1, "{errors}");
    // The pattern that cannot compile is left out with a warning, not a second error.
    assert!(
        c.warnings
            .0
            .iter()
            .any(|w| w.message.contains("\"([unclosed\" cannot be compiled")),
        "{:?}",
        c.warnings
    );
    // Named at the keyword that broke, in the file that holds it.
    assert!(
        errors.0[0]
            .to_string()
            .contains("c.yaml (at /partners/p/operations/1/responses/200/schema/type): this schema does not compile"),
        "{errors}"
    );
}

#[test]
fn identical_schemas_share_a_slot_and_still_validate_separately() {
    let (_d, c) = contract_with_spec(&spec30("type: object\nrequired: [a]"));
    let c = c.unwrap();
    assert_eq!(violations(&c, "getX", "200", json!({"a": 1})), Vec::<String>::new());
    assert_eq!(
        violations(&c, "getX", "200", json!([])),
        [r#"/: [] is not of type "object""#]
    );
}

#[test]
fn specs_beside_contracts_are_not_taken_for_contracts() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p: {}\n",
    );
    write(
        dir.path(),
        "spec.json",
        r#"{"info":{"title":"t","version":"1"},"openapi":"3.1.0","paths":{}}"#,
    );
    write(dir.path(), "old.yaml", "info: {title: t}\nswagger: '2.0'\n");
    let files = contrail::contract::contract_files(dir.path());
    assert_eq!(files, [dir.path().join("c.yaml")]);
}

/// A workspace `ws/` with `contracts/c.yaml` and `contracts/spec.yaml`, and a sibling folder
/// `outside/` holding a secret that no `$ref` may read.
fn confined(spec_schema: &str) -> (tempfile::TempDir, Result<Contract, contrail::diag::Diagnostics>) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    write(
        &dir.path().join("outside"),
        "secret.yaml",
        "password: hunter2-OUTSIDE\n",
    );
    write(
        &ws.join("contracts"),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    openapi: spec.yaml\n",
    );
    write(&ws.join("contracts"), "spec.yaml", &spec30(spec_schema));
    let roots = contrail::files::Roots::new([ws.clone()]);
    let c = Contract::load_within(&ws.join("contracts/c.yaml"), &roots);
    (dir, c)
}

#[test]
fn a_ref_outside_the_workspace_is_refused_without_printing_the_file() {
    let (_d, c) = confined("$ref: '../../outside/secret.yaml#/password'");
    let e = c.expect_err("refused").to_string();
    assert!(e.contains("outside the workspace"), "{e}");
    assert!(
        e.contains("spec.yaml") && e.contains("$ref"),
        "names where the $ref is: {e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn a_ref_to_a_device_is_refused_and_does_not_hang() {
    let (_d, c) = confined("$ref: '/dev/zero'");
    let e = c.expect_err("refused").to_string();
    assert!(e.contains("refused"), "{e}");
    // Named as a root explicitly, a device is still no regular file.
    let roots = contrail::files::Roots::new([std::path::PathBuf::from("/dev")]);
    let e = roots.read(Path::new("/dev/zero")).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn a_partner_name_that_could_leave_recordings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  ../../x:\n    operations: []\n",
    );
    let e = Contract::load(&dir.path().join("c.yaml"))
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("c.yaml:4:1") && e.contains("partner name \"../../x\" is not allowed"),
        "{e}"
    );
}

#[test]
fn a_ref_cycle_loads_and_validation_still_checks_what_it_can() {
    let spec = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      operationId: getX\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Node'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n    Node:\n      type: object\n      required: [id]\n      properties:\n        id: {type: integer}\n        loop: {$ref: '#/components/schemas/A'}\n        next: {$ref: '#/components/schemas/Node'}\n";
    let (_d, c) = contract_with_spec(spec);
    let c = c.unwrap();
    assert_eq!(
        violations(&c, "getX", "200", json!({"id": 1, "next": {"id": 2}})),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(&c, "getX", "200", json!({"id": 1, "next": {"id": "two"}})),
        [r#"/next/id: "two" is not of type "integer""#]
    );
    // The field behind the pure cycle is checked as far as it can be: without a crash.
    let _ = c
        .schemas
        .validate(response_schema(&c, "getX", "200"), &json!({"id": 1, "loop": 3}));
    // lint warns about the pure cycle.
    let warned: Vec<String> = c.warnings.0.iter().filter_map(|w| w.pointer.clone()).collect();
    assert!(warned.contains(&"/components/schemas/A".to_string()), "{warned:?}");
    assert!(warned.contains(&"/components/schemas/B".to_string()), "{warned:?}");
    // The field that leads into it too; Node's own recursion (`next`) is no cycle of refs.
    assert!(
        warned.contains(&"/components/schemas/Node/properties/loop".to_string()),
        "{warned:?}"
    );
    assert!(
        warned
            .iter()
            .all(|p| !p.ends_with("/next") && p != "/components/schemas/Node"),
        "{warned:?}"
    );
}

#[test]
fn durations_are_checked_when_the_contract_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c.yaml",
        "contract: c\nversion: \"1\"\npartners:\n  p:\n    rate_limit:\n      requests: 5\n      per: 1 fortnight-ish\n    latency_budget: fast\n    operations: []\n  q:\n    rate_limit: { requests: 5, per: 0s }\n    operations: []\n",
    );
    let e = Contract::load(&dir.path().join("c.yaml"))
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("c.yaml:7:1") && e.contains("rate_limit.per \"1 fortnight-ish\" is not a duration"),
        "{e}"
    );
    assert!(
        e.contains("c.yaml:8:1") && e.contains("latency_budget \"fast\" is not a duration"),
        "{e}"
    );
    assert!(e.contains("rate_limit.per must be longer than 0"), "{e}");
}

#[test]
fn an_openapi_31_documents_webhooks_are_the_contracts_events() {
    let (_d, c) = contract_with_spec(
        "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\npaths: {}\nwebhooks:\n  thingCreated:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Thing'}\ncomponents:\n  schemas:\n    Thing: {type: object, required: [id], properties: {id: {type: string}, owner: {$ref: '#/components/schemas/Owner'}}}\n    Owner: {type: object, required: [login], properties: {login: {type: string}}}\n",
    );
    let c = c.unwrap();
    assert_eq!(c.webhook_sender("thingCreated"), Some("p"));
    let schema = &c.webhook_schemas["thingCreated"];
    let check = |v: Value| c.schemas.validate(schema, &v).unwrap().len();
    assert_eq!(check(json!({ "id": "t", "owner": { "login": "o" } })), 0);
    // Nested `$ref`s are followed: the owner's login is required too.
    assert_eq!(check(json!({ "id": "t", "owner": {} })), 1);
    assert_eq!(check(json!({})), 1);
}
