//! A YAML or JSON document as a plain tree, for the files contrail rewrites rather than reads
//! (a contract cut down to one partner for a bundle). Keys keep their order and numbers their
//! digits: `serde_json::Value` would sort the keys, and with `arbitrary_precision` its numbers
//! do not serialise through any serializer but serde_json's own.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl Tree {
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Tree> {
        match self {
            Tree::Map(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Tree::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Drops a key of a mapping (nothing when there is none).
    pub fn remove(&mut self, key: &str) {
        if let Tree::Map(m) = self {
            m.retain(|(k, _)| k != key);
        }
    }

    /// Keeps the entries of a mapping for which `keep` says so.
    pub fn retain_entries(&mut self, mut keep: impl FnMut(&str, &Tree) -> bool) {
        if let Tree::Map(m) = self {
            m.retain(|(k, v)| keep(k, v));
        }
    }

    /// Keeps the items of a sequence for which `keep` says so.
    pub fn retain_items(&mut self, mut keep: impl FnMut(&Tree) -> bool) {
        if let Tree::Seq(s) = self {
            s.retain(|v| keep(v));
        }
    }

    /// YAML text, keys in their order.
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_saphyr::to_string(self).map_err(|e| e.to_string())
    }
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Null => s.serialize_unit(),
            Tree::Bool(b) => s.serialize_bool(*b),
            Tree::Int(i) => s.serialize_i64(*i),
            Tree::Uint(u) => s.serialize_u64(*u),
            Tree::Float(f) => s.serialize_f64(*f),
            Tree::Str(t) => s.serialize_str(t),
            Tree::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Tree::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Uint(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Tree::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut out: Vec<(String, Tree)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<KeyText, Tree>()? {
            out.push((k.0, v));
        }
        Ok(Tree::Map(out))
    }
}

/// A mapping key as text: YAML allows `200:` or `true:` as keys, which stay their text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        match Tree::deserialize(d)? {
            Tree::Str(s) => Ok(KeyText(s)),
            Tree::Int(i) => Ok(KeyText(i.to_string())),
            Tree::Uint(u) => Ok(KeyText(u.to_string())),
            Tree::Float(f) => Ok(KeyText(f.to_string())),
            Tree::Bool(b) => Ok(KeyText(b.to_string())),
            Tree::Null => Ok(KeyText("null".into())),
            _ => Err(de::Error::custom("a mapping key must be a scalar")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_numbers_their_values() {
        let text = "contract: c\nversion: \"1.0\"\nrate_limit:\n  requests: 5\n  ratio: 0.25\nresponses:\n  200: ok\nlist: [a, 1, true, null]\n";
        let t: Tree = crate::yaml::from_yaml(std::path::Path::new("t.yaml"), text).unwrap();
        let yaml = t.to_yaml().unwrap();
        let again: Tree = crate::yaml::from_yaml(std::path::Path::new("t.yaml"), &yaml).unwrap();
        assert_eq!(again, t, "{yaml}");
        assert!(yaml.starts_with("contract: c\nversion: \"1.0\"\n"), "{yaml}");
        assert!(yaml.contains("requests: 5\n"), "{yaml}");
        assert_eq!(
            t.get("responses").and_then(|r| r.get("200")),
            Some(&Tree::Str("ok".into()))
        );
    }
}
