//! A small JSON reader/writer for the polyplug protocol: nesting bounded at 64 levels, bytes as
//! `{"$bytes": base64}` (docs/protocol.md §4).

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
        let mut out = String::new();
        write_value(&mut out, self);
        out
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if !n.is_finite() => out.push_str("null"),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => out.push_str(&format!("{}", *n as i64)),
        // shortest round-trip decimal (never "inf": non-finite values were handled above)
        Value::Number(n) => out.push_str(&format!("{}", n)),
        Value::String(s) => write_string(out, s),
        Value::Bytes(data) => {
            out.push_str("{\"$bytes\":\"");
            for chunk in data.chunks(3) {
                let x = (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
                out.push(B64[(x >> 18 & 63) as usize] as char);
                out.push(B64[(x >> 12 & 63) as usize] as char);
                out.push(if chunk.len() > 1 { B64[(x >> 6 & 63) as usize] as char } else { '=' });
                out.push(if chunk.len() > 2 { B64[(x & 63) as usize] as char } else { '=' });
            }
            out.push_str("\"}");
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn b64decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0);
    let mut table = [255u8; 256];
    for (i, &c) in B64.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    for c in s.bytes() {
        let d = table[c as usize];
        if d == 255 {
            return None;
        }
        let d = d as u32;
        acc = (acc << 6) | d;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Parses one JSON text.
pub fn parse(text: &[u8]) -> Result<Value, ParseError> {
    let mut p = Parser { s: text, i: 0 };
    let v = p.value(1)?;
    p.ws();
    if p.i != text.len() {
        return Err(ParseError::Syntax);
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn lit(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        self.ws();
        match self.peek().ok_or(ParseError::Syntax)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => Ok(Value::String(self.string()?)),
            b'n' if self.lit(b"null") => Ok(Value::Null),
            b't' if self.lit(b"true") => Ok(Value::Bool(true)),
            b'f' if self.lit(b"false") => Ok(Value::Bool(false)),
            _ => self.number(),
        }
    }
    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(ParseError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(ParseError::Syntax);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(ParseError::Syntax);
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| ParseError::Syntax)?;
        text.parse::<f64>().map(Value::Number).map_err(|_| ParseError::Syntax)
    }
    fn hex4(&mut self) -> Result<u32, ParseError> {
        let hex = self.s.get(self.i..self.i + 4).ok_or(ParseError::Syntax)?;
        let text = std::str::from_utf8(hex).map_err(|_| ParseError::Syntax)?;
        let v = u32::from_str_radix(text, 16).map_err(|_| ParseError::Syntax)?;
        if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ParseError::Syntax);
        }
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or(ParseError::Syntax)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|_| ParseError::Syntax),
                0..=0x1f => return Err(ParseError::Syntax),
                b'\\' => {
                    let e = self.peek().ok_or(ParseError::Syntax)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) && self.s[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                match self.hex4() {
                                    Ok(lo) if (0xdc00..0xe000).contains(&lo) => cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00),
                                    _ => self.i = save,
                                }
                            }
                            // a lone surrogate has no UTF-8 form
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(ParseError::Syntax),
                    };
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                c => out.push(c),
            }
        }
    }
    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(ParseError::Syntax),
            }
        }
    }
    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(ParseError::Syntax);
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(ParseError::Syntax);
            }
            self.i += 1;
            members.push((key, self.value(depth + 1)?));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(ParseError::Syntax),
            }
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
