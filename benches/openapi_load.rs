//! Load + compile a generated OpenAPI document with 2,000 operations and 500 component schemas
//! (~10 MB), as YAML and as JSON. Prints wall times and peak memory; asserts nothing about time.
//!
//!     cargo bench --bench openapi_load

mod common;
use common::peak_rss_mb;

use std::fmt::Write as _;
use std::time::Instant;

use contrail::contract::Contract;

fn schema(i: usize) -> String {
    let next = (i + 1) % 500;
    format!(
        r#"    Schema{i}:
      type: object
      description: "Component {i}. {lorem}"
      required: [id, name, status]
      properties:
        id: {{ type: string, format: uuid }}
        name: {{ type: string, minLength: 1, maxLength: 200, description: "The name of the thing; {lorem}" }}
        status: {{ type: string, enum: [open, closed, pending, archived] }}
        count: {{ type: integer, minimum: 0, exclusiveMinimum: true }}
        ratio: {{ type: number, nullable: true }}
        tags: {{ type: array, items: {{ type: string }} }}
        created_at: {{ type: string, format: date-time }}
        owner: {{ $ref: '#/components/schemas/Schema{next}' }}
        meta: {{ type: object, additionalProperties: {{ type: string }} }}
      example: {{ id: 0b6f2a3c-9a55-4c39-8d6e-6a1f0e2d3c4b, name: thing {i}, status: open }}
"#,
        lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.".repeat(3)
    )
}

fn operation(i: usize, method: &str) -> String {
    let s = i % 500;
    format!(
        r#"    {method}:
      operationId: {method}Resource{i}
      summary: "{method} resource {i}"
      description: "{lorem}"
      parameters:
        - {{ name: id, in: path, required: true, schema: {{ type: string }} }}
        - {{ name: expand, in: query, schema: {{ type: string, enum: [owner, tags] }} }}
        - {{ name: X-Request-Id, in: header, schema: {{ type: string, format: uuid }} }}
      requestBody:
        content:
          application/json:
            schema: {{ $ref: '#/components/schemas/Schema{s}' }}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{ $ref: '#/components/schemas/Schema{s}' }}
        '404':
          description: not found
          content:
            application/json:
              schema: {{ $ref: '#/components/schemas/Error' }}
        default:
          description: error
          content:
            application/json:
              schema: {{ $ref: '#/components/schemas/Error' }}
"#,
        lorem = "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam. ".repeat(30)
    )
}

fn spec() -> String {
    let mut out = String::from("openapi: 3.0.3\ninfo: { title: generated, version: '1' }\npaths:\n");
    for i in 0..1000 {
        let _ = writeln!(out, "  /resources{i}/{{id}}:");
        out.push_str(&operation(i, "get"));
        out.push_str(&operation(i + 1000, "put"));
    }
    out.push_str("components:\n  schemas:\n    Error:\n      type: object\n      required: [error]\n      properties:\n        error: { type: string }\n");
    for i in 0..500 {
        out.push_str(&schema(i));
    }
    out
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = spec();
    let value: serde_json::Value = serde_saphyr::from_str(&yaml).expect("generated YAML parses");
    std::fs::write(dir.path().join("spec.yaml"), &yaml).expect("write");
    std::fs::write(
        dir.path().join("spec.json"),
        serde_json::to_string(&value).expect("json"),
    )
    .expect("write");
    for ext in ["yaml", "json"] {
        let contract = dir.path().join(format!("c-{ext}.yaml"));
        std::fs::write(
            &contract,
            format!("contract: big-{ext}\nversion: '1'\npartners:\n  p:\n    openapi: spec.{ext}\n"),
        )
        .expect("write");
        let size = std::fs::metadata(dir.path().join(format!("spec.{ext}")))
            .map(|m| m.len())
            .unwrap_or(0);
        let started = Instant::now();
        let c = Contract::load(&contract).unwrap_or_else(|e| panic!("load failed: {e}"));
        let loaded = started.elapsed();
        let errors = c.compile_all();
        assert!(errors.is_empty(), "{errors}");
        let total = started.elapsed();
        let ops = c.partner("p").map(|p| p.operations.len()).unwrap_or(0);
        let op = c.partner("p").and_then(|p| p.operation("getResource7")).expect("op");
        let schema = op.responses["200"].content["application/json"]
            .as_ref()
            .expect("schema");
        let instance = serde_json::json!({"id": "0b6f2a3c-9a55-4c39-8d6e-6a1f0e2d3c4b", "name": "x", "status": "open", "tags": ["a"], "owner": {"id": "0b6f2a3c-9a55-4c39-8d6e-6a1f0e2d3c4b", "name": "y", "status": "closed"}});
        let n = 10_000;
        let t = Instant::now();
        for _ in 0..n {
            assert!(c.schemas.validate(schema, &instance).expect("validates").is_empty());
        }
        let per = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!(
            "openapi_load {ext}: {:.1} MB, {ops} operations: load {:.0} ms, load + compile all {:.0} ms, validate one response {per:.1} µs, peak RSS so far {:.0} MB",
            size as f64 / 1e6,
            loaded.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            peak_rss_mb()
        );
    }
}
