//! The kit's JSON `Value`, read and written by serde_json (Debian's librust-serde-json-dev, used
//! offline through Debian's crate directory: .cargo/config.toml). Bytes are `{"$bytes": base64}` on
//! the wire (docs/protocol.md §4); nesting is bounded at 64 levels.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;

/// A JSON value; `Bytes` is what `{"$bytes": "<base64>"}` decodes to.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
    Bytes(Vec<u8>),
}

/// Why a text did not parse.
#[derive(Debug, PartialEq)]
pub enum ParseError {
    Syntax,
    TooDeep,
}

/// 64 levels of payload inside the envelope object and its params array, as the Node peer counts
/// (docs/protocol.md §10).
pub const MAX_DEPTH: usize = 66;

impl Value {
    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// Item `i` of an array (positional params).
    pub fn at(&self, i: usize) -> Option<&Value> {
        match self {
            Value::Array(items) => items.get(i),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    /// Builds an object from pairs.
    pub fn object(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
    pub fn str(s: &str) -> Value {
        Value::String(s.to_string())
    }
    /// Serialises to JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Value always serialises")
    }
    /// Levels of nesting: 1 for a scalar or an empty container.
    fn depth(&self) -> usize {
        1 + match self {
            Value::Array(items) => items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Object(members) => members.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let x = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        out.push(B64[(x >> 18 & 63) as usize] as char);
        out.push(B64[(x >> 12 & 63) as usize] as char);
        out.push(if chunk.len() > 1 { B64[(x >> 6 & 63) as usize] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[(x & 63) as usize] as char } else { '=' });
    }
    out
}

fn b64decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut table = [255u8; 256];
    for (i, &c) in B64.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let d = table[c as usize];
        if d == 255 {
            return None;
        }
        acc = (acc << 6) | d as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            // integers without a fraction, as JavaScript prints them (serde_json writes non-finite numbers as null)
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => s.serialize_i64(*n as i64),
            Value::Number(n) => s.serialize_f64(*n),
            Value::String(text) => s.serialize_str(text),
            Value::Bytes(data) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("$bytes", &b64encode(data))?;
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Value>()? {
            members.push(member);
        }
        // {"$bytes": "<base64>"} and nothing else is a byte string.
        if let [(k, Value::String(s))] = members.as_slice() {
            if k == "$bytes" {
                if let Some(bytes) = b64decode(s) {
                    return Ok(Value::Bytes(bytes));
                }
            }
        }
        Ok(Value::Object(members))
    }
}

/// Parses one JSON text. serde_json refuses what RFC 8259 refuses, a lone surrogate escape included.
pub fn parse(text: &[u8]) -> Result<Value, ParseError> {
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        // serde_json's own nesting limit (128) is past ours: a message that deep is too deep, not malformed
        if e.to_string().starts_with("recursion limit exceeded") { ParseError::TooDeep } else { ParseError::Syntax }
    })?;
    if value.depth() > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    Ok(value)
}
