//! Step values shared by the step groups: reading JSON doc strings, `{x:value}` parameters,
//! field paths, data tables and sizes out of step text, and JSON shown pretty in diffs.

use serde_json::{Map, Value};

use super::failure::StepFailure;

pub fn json_docstring(doc: &str) -> Result<Value, StepFailure> {
    // The parser keeps a doc string's media type (a fence's `json`) out of its content.
    serde_json::from_str(doc).map_err(|e| {
        StepFailure::usage(format!(
            "the doc string is not valid JSON: line {} column {} of the doc string: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// A `{x:value}` parameter: a JSON literal, a quoted string, or a bare marker like `#uuid`.
pub fn parse_value(text: &str) -> Result<Value, StepFailure> {
    let t = text.trim();
    if t.starts_with('#') {
        return Ok(Value::String(t.to_string()));
    }
    serde_json::from_str(t).map_err(|_| {
        StepFailure::usage(format!(
            "{t:?} is not a JSON value: write strings in double quotes, e.g. \"{t}\""
        ))
    })
}

/// A table cell: JSON when it parses as a JSON scalar/array/object, otherwise the text.
pub fn cell_value(text: &str) -> Value {
    let t = text.trim();
    match serde_json::from_str::<Value>(t) {
        Ok(v) => v,
        Err(_) => Value::String(t.to_string()),
    }
}

/// `incident.severity`, `items.0.id` or `/items/0/id` -> a JSON pointer.
pub fn field_pointer(field: &str) -> String {
    let f = field.trim();
    if f.starts_with('/') || f.is_empty() {
        return f.to_string();
    }
    f.split('.')
        .map(|seg| format!("/{}", crate::pointer::escape(seg)))
        .collect()
}

/// Sets `value` at `pointer` in `root`, creating objects on the way.
pub fn set_at(root: &mut Value, pointer: &str, value: Value) -> Result<(), StepFailure> {
    let mut cur = root;
    let tokens: Vec<String> = pointer.split('/').skip(1).map(crate::pointer::unescape).collect();
    if tokens.is_empty() {
        *cur = value;
        return Ok(());
    }
    for (i, tok) in tokens.iter().enumerate() {
        if !cur.is_object() {
            if cur.is_null() {
                *cur = Value::Object(Map::new());
            } else {
                return Err(StepFailure::usage(format!(
                    "cannot set {pointer}: a part of it is not an object"
                )));
            }
        }
        let obj = cur
            .as_object_mut()
            .ok_or_else(|| StepFailure::usage(format!("cannot set {pointer}")))?;
        if i + 1 == tokens.len() {
            obj.insert(tok.clone(), value);
            return Ok(());
        }
        cur = obj.entry(tok.clone()).or_insert(Value::Null);
    }
    Ok(())
}

/// A two-column table (optionally headed `field | value`) as a JSON object.
pub fn table_object(rows: &[Vec<String>]) -> Result<Value, StepFailure> {
    let mut out = Value::Object(Map::new());
    for (i, row) in rows.iter().enumerate() {
        if row.len() != 2 {
            return Err(StepFailure::usage(format!(
                "row {} of the table has {} cells; write | field | value |",
                i + 1,
                row.len()
            )));
        }
        if i == 0 && row[0].trim().eq_ignore_ascii_case("field") && row[1].trim().eq_ignore_ascii_case("value") {
            continue;
        }
        set_at(&mut out, &field_pointer(&row[0]), cell_value(&row[1]))?;
    }
    Ok(out)
}

/// A JSON file of the workspace (`what` names it in errors): its text as read, and the value.
/// Read only under the workspace's roots, like every file a step names.
pub fn json_file(w: &super::world::World, relative: &str, what: &str) -> Result<(String, Value), StepFailure> {
    let path = w.suite.workspace.root.join(relative);
    let text = w
        .suite
        .workspace
        .read_roots()
        .read(&path)
        .map_err(|e| StepFailure::usage(format!("{what}: {e}")))?;
    let value = serde_json::from_str(&text).map_err(|e| {
        StepFailure::usage(format!(
            "{}:{}:{}: not valid JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    Ok((text, value))
}

pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// `20` `MB` -> bytes (1 KB = 1,024 bytes), at most 1 GB.
pub fn size_in_bytes(n: i64, unit: &str) -> Result<usize, StepFailure> {
    let factor: u64 = match unit.to_ascii_uppercase().as_str() {
        "B" | "BYTE" | "BYTES" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(StepFailure::usage(format!(
                "{unit:?} is not a size unit (use B, KB, MB or GB)"
            )));
        }
    };
    let n = u64::try_from(n).map_err(|_| StepFailure::usage(format!("{n} {unit} is negative")))?;
    n.checked_mul(factor)
        .filter(|b| *b <= 1 << 30)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| StepFailure::usage(format!("{n} {unit} is more than 1 GB")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_build_nested_objects_with_typed_cells() {
        let rows = vec![
            vec!["field".into(), "value".into()],
            vec!["title".into(), "Printer on fire".into()],
            vec!["customer.id".into(), "42".into()],
            vec!["urgent".into(), "true".into()],
        ];
        assert_eq!(
            table_object(&rows).unwrap(),
            json!({"title": "Printer on fire", "customer": {"id": 42}, "urgent": true})
        );
        assert!(table_object(&[vec!["only one".into()]]).is_err());
    }

    #[test]
    fn values_and_pointers() {
        assert_eq!(parse_value("#uuid").unwrap(), json!("#uuid"));
        assert_eq!(parse_value("\"high\"").unwrap(), json!("high"));
        assert_eq!(parse_value("1").unwrap(), json!(1));
        assert!(parse_value("high").is_err());
        assert_eq!(field_pointer("incident.severity"), "/incident/severity");
        assert_eq!(field_pointer("/a/0"), "/a/0");
    }
}
