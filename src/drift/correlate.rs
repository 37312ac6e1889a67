//! Correlation: the live sandbox hands out its own ids, so a scenario replayed against it asks
//! for `/tickets/T-7` where the recording asked for `/tickets/T-4`. Pairing each live answer
//! with its recording teaches us `T-7 -> T-4`; later requests of the same scenario are looked
//! up with the recorded values, and an accepted live answer is written with them, so the
//! recordings stay consistent with each other.
//!
//! Only whole values are translated (a path segment, a query value, a JSON string), never
//! substrings: `T-7` must not turn `T-70` into `T-40`.

use std::collections::HashMap;

use serde_json::Value;

use crate::policy::PLACEHOLDER;
use crate::recording::Body;
use crate::recording::index::Incoming;

/// Live value -> recorded value, for one scenario.
#[derive(Debug, Default)]
pub struct Correlation {
    to_recorded: HashMap<String, String>,
}

impl Correlation {
    /// Learns from a recorded answer and the live answer to the same request: every string
    /// that differs at the same place, and integers under id-like keys (`id`, `ticket_id`).
    pub fn learn(&mut self, recorded: &Value, live: &Value) {
        self.walk(recorded, live, None);
    }

    fn walk(&mut self, rec: &Value, live: &Value, key: Option<&str>) {
        match (rec, live) {
            (Value::Object(r), Value::Object(l)) => {
                for (k, rv) in r {
                    if let Some(lv) = l.get(k) {
                        self.walk(rv, lv, Some(k));
                    }
                }
            }
            (Value::Array(r), Value::Array(l)) => {
                for (rv, lv) in r.iter().zip(l) {
                    self.walk(rv, lv, key);
                }
            }
            // Ids (and links and keys made of them) carry digits; words like "open" do not,
            // and must not be translated: a status that drifted is not an id that moved.
            (Value::String(r), Value::String(l))
                if r != l && r != PLACEHOLDER && (key.is_some_and(id_like) || (has_digit(r) && has_digit(l))) =>
            {
                self.to_recorded.insert(l.clone(), r.clone());
            }
            (Value::Number(r), Value::Number(l)) if r != l && key.is_some_and(id_like) => {
                self.to_recorded.insert(l.to_string(), r.to_string());
            }
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.to_recorded.is_empty()
    }

    fn value(&self, s: &str) -> Option<&String> {
        self.to_recorded.get(s)
    }

    /// The request as the recording would have sent it.
    pub fn to_recorded(&self, req: &Incoming) -> Incoming {
        if self.is_empty() {
            return req.clone();
        }
        let path = req
            .path
            .split('/')
            .map(|seg| {
                let decoded = percent_decode(seg);
                match self.value(&decoded) {
                    Some(r) => url::form_urlencoded::byte_serialize(r.as_bytes())
                        .collect::<String>()
                        .replace('+', "%20"),
                    None => seg.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let query = req
            .query
            .iter()
            .map(|(k, v)| (k.clone(), self.value(v).cloned().unwrap_or_else(|| v.clone())))
            .collect();
        let body = match req.body.parsed() {
            Body::Json(v) => {
                let mut v = v.clone();
                self.json_to_recorded(&mut v);
                Body::Json(v)
            }
            Body::Form(f) => Body::Form(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(url::form_urlencoded::parse(f.as_bytes()).map(|(k, v)| {
                        let v = self.value(&v).cloned().unwrap_or_else(|| v.into_owned());
                        (k.into_owned(), v)
                    }))
                    .finish(),
            ),
            other => other.clone(),
        };
        Incoming {
            method: req.method.clone(),
            path,
            query,
            body: body.into(),
            scenario: req.scenario.clone(),
            steps: req.steps.clone(),
            credentials: req.credentials.clone(),
        }
    }

    /// Replaces live values with recorded ones in a JSON document (strings, and integers under
    /// id-like keys).
    pub fn json_to_recorded(&self, v: &mut Value) {
        self.json_walk(v, None);
    }

    fn json_walk(&self, v: &mut Value, key: Option<&str>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m.iter_mut() {
                    self.json_walk(c, Some(k));
                }
            }
            Value::Array(a) => {
                for c in a {
                    self.json_walk(c, key);
                }
            }
            Value::String(s) => {
                if let Some(r) = self.value(s) {
                    *s = r.clone();
                }
            }
            Value::Number(n) if key.is_some_and(id_like) => {
                if let Some(r) = self.value(&n.to_string())
                    && let Ok(parsed) = r.parse::<serde_json::Number>()
                {
                    *n = parsed;
                }
            }
            _ => {}
        }
    }
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

fn id_like(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "id" || k.ends_with("_id") || k.ends_with("-id") || key.ends_with("Id")
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn incoming(path: &str, body: Body) -> Incoming {
        Incoming {
            method: "GET".into(),
            path: path.into(),
            query: vec![("ticket".into(), "T-7".into()), ("limit".into(), "7".into())].into(),
            body: body.into(),
            scenario: Some("s".into()),
            ..Default::default()
        }
    }

    #[test]
    fn learned_ids_translate_whole_values_only() {
        let mut c = Correlation::default();
        c.learn(
            &json!({ "id": "T-4", "count": 3, "incident_id": 10, "title": "same" }),
            &json!({ "id": "T-7", "count": 5, "incident_id": 12, "title": "same" }),
        );
        let r = c.to_recorded(&incoming("/tickets/T-7/escalate", Body::None));
        assert_eq!(r.path, "/tickets/T-4/escalate");
        assert_eq!(
            *r.query,
            vec![("ticket".into(), "T-4".into()), ("limit".into(), "7".into())]
        );
        let r = c.to_recorded(&incoming("/tickets/T-70", Body::None));
        assert_eq!(r.path, "/tickets/T-70", "a longer id is another id");
        let r = c.to_recorded(&incoming(
            "/x",
            Body::Json(json!({ "ticket": "T-7", "incident_id": 12, "count": 5 })),
        ));
        assert_eq!(
            *r.body.parsed(),
            Body::Json(json!({ "ticket": "T-4", "incident_id": 10, "count": 5 })),
            "integers are translated under id-like keys only"
        );
    }

    #[test]
    fn redacted_and_equal_values_teach_nothing() {
        let mut c = Correlation::default();
        c.learn(
            &json!({ "token": PLACEHOLDER, "title": "a", "status": "open", "list": [{ "id": "T-1" }] }),
            &json!({ "token": "secret", "title": "a", "status": "triaged", "list": [{ "id": "T-9" }] }),
        );
        let r = c.to_recorded(&incoming("/secret/T-9/triaged", Body::None));
        assert_eq!(r.path, "/secret/T-1/triaged", "words are not ids");
    }
}
