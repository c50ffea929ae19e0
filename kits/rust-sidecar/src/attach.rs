//! Bytes as attachments (docs/protocol.md §4.1): once `$/hello` agreed on the "binary"
//! capability, a message holding bytes is
//!   0x00 | J (u32 big-endian) | J bytes of JSON | attachment area
//! with every byte string `{"$bin":[offset,length]}` in the JSON.

use crate::json::Value;

pub const CAPABILITY: &str = "binary";

/// The JSON text of a body and, for a message with attachments, its attachment area.
pub fn split(body: &[u8]) -> Result<(&[u8], Option<&[u8]>), &'static str> {
    if body.first() != Some(&0) {
        return Ok((body, None));
    }
    if body.len() < 5 {
        return Err("a message with attachments needs a 5-byte head");
    }
    let j = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if j > body.len() - 5 {
        return Err("its JSON text runs past the end of the message");
    }
    Ok((&body[5..5 + j], Some(&body[5 + j..])))
}

/// `v` with every `{"$bin":[offset,length]}` replaced by those bytes of `area`.
pub fn resolve(v: Value, area: &[u8]) -> Result<Value, &'static str> {
    match v {
        Value::Object(pairs) if pairs.len() == 1 && pairs[0].0 == "$bin" => {
            let index = |v: &Value| match v {
                Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 && *n <= 9007199254740992.0 => Some(*n as usize),
                _ => None,
            };
            match &pairs[0].1 {
                Value::Array(r) if r.len() == 2 => match (index(&r[0]), index(&r[1])) {
                    (Some(off), Some(len)) if off.checked_add(len).is_some_and(|end| end <= area.len()) => Ok(Value::Bytes(area[off..off + len].to_vec())),
                    _ => Err("an attachment reference lies outside the attachment area"),
                },
                _ => Err("an attachment reference is not [offset, length]"),
            }
        }
        Value::Object(pairs) => Ok(Value::Object(pairs.into_iter().map(|(k, v)| resolve(v, area).map(|v| (k, v))).collect::<Result<_, _>>()?)),
        Value::Array(items) => Ok(Value::Array(items.into_iter().map(|v| resolve(v, area)).collect::<Result<_, _>>()?)),
        other => Ok(other),
    }
}

/// The body of `msg` with its byte strings as attachments; plain JSON when it holds none.
pub fn encode(msg: &Value) -> Vec<u8> {
    fn refs<'a>(v: &'a Value, parts: &mut Vec<&'a [u8]>, offset: &mut usize) -> Value {
        match v {
            Value::Bytes(b) => {
                parts.push(b);
                let r = Value::object(vec![("$bin", Value::Array(vec![Value::Number(*offset as f64), Value::Number(b.len() as f64)]))]);
                *offset += b.len();
                r
            }
            Value::Object(pairs) => Value::Object(pairs.iter().map(|(k, v)| (k.clone(), refs(v, parts, offset))).collect()),
            Value::Array(items) => Value::Array(items.iter().map(|v| refs(v, parts, offset)).collect()),
            other => other.clone(),
        }
    }
    let mut parts = Vec::new();
    let mut offset = 0;
    let shadow = refs(msg, &mut parts, &mut offset);
    let text = shadow.to_json().into_bytes();
    if parts.is_empty() {
        return text;
    }
    let mut body = Vec::with_capacity(5 + text.len() + offset);
    body.push(0);
    body.extend_from_slice(&(text.len() as u32).to_be_bytes());
    body.extend_from_slice(&text);
    for part in parts {
        body.extend_from_slice(part);
    }
    body
}
