//! Payloads from a JSON Schema: what the scenario gives is kept, every required field it
//! leaves out is made up so the payload is valid (`const`, the first `enum` value, formats
//! like date-time, uri, uuid and email, strings matching a `pattern`, bounds respected). A
//! seed makes the made-up values repeatable.

use serde_json::{Map, Value, json};

/// A small seeded generator: repeatable values, not cryptography.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

const WORDS: &[&str] = &[
    "printer",
    "network",
    "outage",
    "login",
    "invoice",
    "disk",
    "latency",
    "sync",
    "report",
    "mobile",
    "export",
    "billing",
    "timeout",
    "search",
    "upload",
    "dashboard",
];

/// Follows `$ref`s (absolute, as the contract keeps them) with `resolve`.
pub type Resolve<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// `given` completed into a value valid against `schema`.
pub fn fill(schema: &Value, given: Option<&Value>, resolve: Resolve<'_>, rng: &mut Rng) -> Value {
    fill_depth(schema, given, resolve, rng, 0)
}

fn fill_depth(schema: &Value, given: Option<&Value>, resolve: Resolve<'_>, rng: &mut Rng, depth: usize) -> Value {
    if depth > 32 {
        return given.cloned().unwrap_or(Value::Null);
    }
    if let Some(r) = schema.get("$ref").and_then(|r| r.as_str())
        && let Some(target) = resolve(r)
    {
        return fill_depth(&target, given, resolve, rng, depth + 1);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = schema.get(key).and_then(|l| l.as_array()) {
            // The first branch that is not just `null`.
            if let Some(branch) = list.iter().find(|b| b.get("type") != Some(&json!("null"))) {
                return fill_depth(branch, given, resolve, rng, depth + 1);
            }
        }
    }
    match given {
        Some(Value::Object(g)) if is_object(schema) => {
            let mut out = g.clone();
            let props = schema.get("properties").and_then(|p| p.as_object());
            for (k, v) in out.iter_mut() {
                if let Some(ps) = props.and_then(|p| p.get(k))
                    && v.is_object()
                {
                    *v = fill_depth(ps, Some(v), resolve, rng, depth + 1);
                }
            }
            for k in required(schema) {
                if !out.contains_key(&k) {
                    let ps = props.and_then(|p| p.get(&k)).cloned().unwrap_or(json!({}));
                    out.insert(k.clone(), generate_named(&ps, &k, resolve, rng, depth + 1));
                }
            }
            Value::Object(out)
        }
        Some(v) => v.clone(),
        None => generate_named(schema, "", resolve, rng, depth),
    }
}

fn is_object(schema: &Value) -> bool {
    schema.get("properties").is_some() || types(schema).contains(&"object")
}

fn required(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// A value for `schema`; `name` (the property name) picks a realistic kind of text.
fn generate_named(schema: &Value, name: &str, resolve: Resolve<'_>, rng: &mut Rng, depth: usize) -> Value {
    if schema.get("$ref").is_some() || ["allOf", "anyOf", "oneOf"].iter().any(|k| schema.get(k).is_some()) {
        return fill_depth(schema, None, resolve, rng, depth + 1);
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema.get("enum").and_then(|e| e.as_array())
        && let Some(v) = e.iter().find(|v| !v.is_null()).or(e.first())
    {
        return v.clone();
    }
    let ty = types(schema)
        .into_iter()
        .find(|t| *t != "null")
        .unwrap_or(if schema.get("properties").is_some() {
            "object"
        } else {
            "string"
        });
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = schema.get("properties").and_then(|p| p.as_object());
            for k in required(schema) {
                let ps = props.and_then(|p| p.get(&k)).cloned().unwrap_or(json!({}));
                out.insert(k.clone(), generate_named(&ps, &k, resolve, rng, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let n = schema.get("minItems").and_then(|n| n.as_u64()).unwrap_or(0);
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array(
                (0..n)
                    .map(|_| generate_named(&items, name, resolve, rng, depth + 1))
                    .collect(),
            )
        }
        "integer" | "number" => {
            let min = schema.get("minimum").and_then(|m| m.as_i64()).unwrap_or(1);
            let max = schema
                .get("maximum")
                .and_then(|m| m.as_i64())
                .unwrap_or(min + 100)
                .max(min);
            json!(min + rng.below((max - min + 1) as u64) as i64)
        }
        "boolean" => json!(rng.below(2) == 1),
        _ => Value::String(string(schema, name, rng)),
    }
}

fn string(schema: &Value, name: &str, rng: &mut Rng) -> String {
    let n = rng.next_u64() % 100_000;
    let s = match schema.get("format").and_then(|f| f.as_str()) {
        Some("date-time") => crate::clock::now_rfc3339(true),
        Some("date") => crate::clock::now_rfc3339(false)[..10].to_string(),
        Some("uri") | Some("url") => format!("https://example.com/{name}/{n}"),
        Some("email") => format!("qa.{n}@example.com"),
        Some("uuid") => rng.uuid(),
        _ => match schema.get("pattern").and_then(|p| p.as_str()) {
            Some(p) => matching(p, rng).unwrap_or_else(|| format!("{name}-{n}")),
            None => realistic(name, rng),
        },
    };
    let min = schema.get("minLength").and_then(|m| m.as_u64()).unwrap_or(0) as usize;
    let max = schema.get("maxLength").and_then(|m| m.as_u64()).map(|m| m as usize);
    let mut s = s;
    while s.chars().count() < min {
        s.push('x');
    }
    if let Some(max) = max {
        s = s.chars().take(max).collect();
    }
    s
}

/// Text that reads like the field it fills (crate `fake`, seeded from `rng`): a name for
/// `name`, a short sentence for titles and descriptions, a few words otherwise.
fn realistic(name: &str, rng: &mut Rng) -> String {
    use fake::Fake as _;
    use fake::faker::lorem::en::{Sentence, Words};
    use fake::faker::name::en::Name;
    use rand_chacha::rand_core::SeedableRng as _;
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(rng.next_u64());
    let key = name.to_ascii_lowercase();
    if key.contains("name") {
        return Name().fake_with_rng(&mut r);
    }
    if [
        "title",
        "subject",
        "summary",
        "description",
        "message",
        "body",
        "comment",
    ]
    .iter()
    .any(|k| key.contains(k))
    {
        let s: String = Sentence(3..7).fake_with_rng(&mut r);
        return s.trim_end_matches('.').to_string();
    }
    let words: Vec<String> = Words(1..3).fake_with_rng(&mut r);
    let joined = words.join(" ");
    if joined.is_empty() {
        WORDS[rng.below(WORDS.len() as u64) as usize].to_string()
    } else {
        joined
    }
}

/// A string matching a regex `pattern` (anchors allowed), via proptest's regex strategy.
fn matching(pattern: &str, rng: &mut Rng) -> Option<String> {
    use proptest::strategy::{Strategy as _, ValueTree as _};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let core = pattern.strip_prefix('^').unwrap_or(pattern);
    let core = core.strip_suffix('$').unwrap_or(core);
    let strategy = proptest::string::string_regex(core).ok()?;
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let s = strategy.new_tree(&mut runner).ok()?.current();
    regex::Regex::new(pattern).ok()?.is_match(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_refs(_: &str) -> Option<Value> {
        None
    }

    #[test]
    fn what_is_given_is_kept_and_required_fields_are_made_up() {
        let schema = json!({
            "type": "object",
            "required": ["id", "type", "occurred_at", "ticket"],
            "properties": {
                "id": { "type": "string", "pattern": "^evt_[a-z0-9]{8}$" },
                "type": { "const": "ticket.escalated" },
                "occurred_at": { "type": "string", "format": "date-time" },
                "ticket": {
                    "type": "object",
                    "required": ["id", "title", "link"],
                    "properties": {
                        "id": { "type": "string", "pattern": "^T-[0-9]+$" },
                        "title": { "type": "string", "minLength": 1, "maxLength": 40 },
                        "priority": { "type": ["string", "null"], "enum": ["low", "med", "high", null] },
                        "link": { "type": "string", "format": "uri" }
                    }
                }
            }
        });
        let given = json!({ "ticket": { "id": "T-1", "priority": "high" } });
        let mut rng = Rng::new(42);
        let v = fill(&schema, Some(&given), &no_refs, &mut rng);
        assert_eq!(v["ticket"]["id"], "T-1");
        assert_eq!(v["ticket"]["priority"], "high");
        assert_eq!(v["type"], "ticket.escalated");
        assert!(
            regex::Regex::new("^evt_[a-z0-9]{8}$")
                .unwrap()
                .is_match(v["id"].as_str().unwrap()),
            "{v}"
        );
        assert!(v["ticket"]["link"].as_str().unwrap().starts_with("https://"));
        let title = v["ticket"]["title"].as_str().unwrap();
        assert!(
            title.contains(' ') && title.chars().all(|c| c.is_ascii_alphabetic() || c == ' '),
            "{title:?}"
        );
        assert!(v["ticket"].get("priority").is_some());
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&v), "{v}");
        // The same seed makes the same payload.
        let again = fill(&schema, Some(&given), &no_refs, &mut Rng::new(42));
        assert_eq!(again["id"], v["id"]);
    }

    #[test]
    fn refs_are_followed() {
        let schema = json!({ "$ref": "mem#/X" });
        let target = json!({ "type": "object", "required": ["n"], "properties": { "n": { "type": "integer", "minimum": 5, "maximum": 5 } } });
        let resolve = move |r: &str| (r == "mem#/X").then(|| target.clone());
        assert_eq!(fill(&schema, None, &resolve, &mut Rng::new(1)), json!({ "n": 5 }));
    }
}
