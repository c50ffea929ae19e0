//! polyplug sidecar plugin kit for Rust, on std and serde_json (docs/protocol.md, version 1).
//!
//! Transports stdio, fifo, unix, tcp; framings length, content-length, ndjson; encoding json;
//! streams both ways (§7.1): [`Plugin::stream_method`] sends items through a [`Sink`] under the
//! consumer's credit, and [`Ctx::stream`] reads a stream argument (or a host stream result).
//! Each request runs on a pooled thread of its own, so a sleeping or host-calling method never blocks the
//! others; `$/cancel` wakes the request's [`Ctx::sleep`].
//!
//! ```no_run
//! use polyplug::{Plugin, Value};
//! Plugin::new().method("echo", |_ctx, params| Ok(params.at(0).cloned().unwrap_or(Value::Null))).run();
//! ```

mod attach;
pub mod json;
mod stream;
mod wire;

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub use json::Value;
pub use stream::{Incoming, Sink};
use wire::{Framing, Reader};

/// An error a method answers with: `code` is the stable string code (`E_...` or a protocol code),
/// `data` any JSON detail (sent as the error's `data.data`; a foreign peer's whole `data`).
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub code: String,
    pub message: String,
    pub data: Option<Value>,
}

impl Error {
    pub fn new(code: &str, message: &str) -> Error {
        Error { code: code.to_string(), message: message.to_string(), data: None }
    }
    /// The same error carrying `data`.
    pub fn with_data(mut self, data: Value) -> Error {
        self.data = Some(data);
        self
    }
}

type Handler = Box<dyn Fn(&Ctx, &Value) -> Result<Value, Error> + Send + Sync>;
type StreamHandler = Box<dyn Fn(&Ctx, &Value, &mut Sink) -> Result<(), Error> + Send + Sync>;
type Activate = Box<dyn Fn(&Ctx, &Value) -> Result<(), Error> + Send + Sync>;

/// A plugin: named methods plus optional activate/deactivate hooks.
#[derive(Default)]
pub struct Plugin {
    methods: HashMap<String, Handler>,
    streams: HashMap<String, StreamHandler>,
    names: Vec<String>,
    activate: Option<Activate>,
    deactivate: Option<Box<dyn Fn() + Send + Sync>>,
}

/// Cancellation state of one request.
struct Cancel {
    done: Mutex<bool>,
    wake: Condvar,
}

/// The channel shared by every request thread.
struct Conn {
    out: Mutex<Box<dyn Write + Send>>,
    framing: Framing,
    max_frame: usize,
    plugin_id: String,
    next_id: AtomicU64,
    calls: Mutex<HashMap<u64, mpsc::Sender<Value>>>,
    active: Mutex<HashMap<String, Arc<Cancel>>>,
    streams: stream::Streams,
    /// `$/hello` agreed on bytes as attachments (docs/protocol.md §4.1).
    binary: AtomicBool,
}

impl stream::Notify for Conn {
    fn notify(&self, method: &str, params: Value) {
        Conn::notify(self, method, params)
    }
    fn wire_error(&self, e: &Error) -> Value {
        error_message(&Value::Null, e, &self.plugin_id, None).get("error").cloned().unwrap_or(Value::Null)
    }
}

/// What a method gets besides its params: cancellation, host calls, progress, log.
pub struct Ctx {
    id: Value,
    cancel: Arc<Cancel>,
    conn: Arc<Conn>,
    /// The request's W3C trace context (docs/protocol.md §5.0), sent on with its host calls.
    traceparent: Option<String>,
    /// Stream arguments this request opened: cancelled when it ends unless finished.
    opened: Mutex<Vec<(u64, Incoming)>>,
}

/// JSON-RPC numeric codes: schema/error-codes.json, which test/error-codes.test.ts checks this
/// table against (docs/protocol.md 5.1). Any other string code is sent as APPLICATION_ERROR.
const NUMERIC: &[(&str, i32)] = &[
    ("PARSE_ERROR", -32700), ("INVALID_REQUEST", -32600), ("METHOD_NOT_FOUND", -32601),
    ("INVALID_PARAMS", -32602), ("INTERNAL_ERROR", -32603),
    ("SERVER_NOT_INITIALIZED", -32002), ("UNKNOWN_ERROR_CODE", -32001),
    ("RPC_CANCELLED", -32800), ("CONTENT_MODIFIED", -32801), ("SERVER_CANCELLED", -32802), ("REQUEST_FAILED", -32803),
    ("RPC_TIMEOUT", -31001), ("PERMISSION_DENIED", -31002), ("FRAME_TOO_LARGE", -31003),
    ("MESSAGE_TOO_DEEP", -31004), ("DUPLICATE_REQUEST_ID", -31005),
];
const APPLICATION_ERROR: i32 = -31000;

/// polyplug's `$/cancel` and LSP's `$/cancelRequest`: the same notification, `{"id": ID}`.
const CANCEL_METHODS: &[&str] = &["$/cancel", "$/cancelRequest"];

/// Positional arguments: an array as it is, named params (an object) as one argument, none as [].
fn positional(params: Value) -> Value {
    match params {
        Value::Array(_) => params,
        Value::Null => Value::Array(vec![]),
        other => Value::Array(vec![other]),
    }
}

impl Ctx {
    /// Whether the caller cancelled this request.
    pub fn cancelled(&self) -> bool {
        *self.cancel.done.lock().unwrap()
    }
    /// Sleeps up to `d`; returns true as soon as the request is cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = self.cancel.done.lock().unwrap();
        let (guard, _) = self.cancel.wake.wait_timeout_while(guard, d, |done| !*done).unwrap();
        *guard
    }
    /// Calls the host (`host/<name>`) and waits for its answer.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, Error> {
        let id = self.conn.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::channel();
        self.conn.calls.lock().unwrap().insert(id, tx);
        let mut message = vec![("jsonrpc", Value::str("2.0")), ("id", Value::Number(id as f64)), ("method", Value::str(method)), ("params", params)];
        if let Some(t) = &self.traceparent {
            message.push(("traceparent", Value::str(t)));
        }
        self.conn.send(&Value::object(message));
        let response = rx.recv().map_err(|_| Error::new("CHANNEL_CLOSED", "the channel closed"))?;
        match response.get("error") {
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
            Some(e) => {
                let message = e.get("message").and_then(Value::as_str).unwrap_or("").to_string();
                let polyplug_data = e.get("data").filter(|d| match d {
                    Value::Object(fields) => fields.iter().all(|(k, _)| ["code", "plugin", "method", "data"].contains(&k.as_str())),
                    _ => false,
                });
                let (code, data) = match polyplug_data.and_then(|d| d.get("code")).and_then(Value::as_str) {
                    Some(c) => (c.to_string(), polyplug_data.and_then(|d| d.get("data")).cloned()),
                    // a foreign peer's error: the code from the number, its whole data kept (docs/protocol.md §5.1)
                    None => {
                        let n = e.get("code").and_then(Value::as_f64).unwrap_or(0.0);
                        let code = NUMERIC.iter().find(|(_, k)| *k as f64 == n).map_or("INTERNAL_ERROR", |(c, _)| c).to_string();
                        (code, e.get("data").cloned())
                    }
                };
                Err(Error { code, message, data })
            }
        }
    }
    /// Reports progress on this request.
    pub fn progress(&self, value: Value) {
        self.conn.notify("$/progress", Value::object(vec![("id", self.id.clone()), ("value", value)]));
    }
    /// Sends a `$/log` notification ("debug", "info", "warn", "error").
    pub fn log(&self, level: &str, message: &str) {
        self.conn.notify("$/log", Value::object(vec![("level", Value::str(level)), ("message", Value::str(message))]));
    }
    /// The plugin id (POLYPLUG_PLUGIN_ID).
    pub fn plugin_id(&self) -> &str {
        &self.conn.plugin_id
    }
    /// Reads a `{"$stream": SID}` value (a stream argument, or a host call's stream result) as
    /// an iterator of items; None for any other value. It is cancelled when the request ends.
    pub fn stream(&self, value: Option<&Value>) -> Option<Incoming> {
        let sid = stream::marker_id(value?)?;
        let consumer = self.conn.streams.consume(sid);
        let make = || Incoming { sid, consumer: consumer.clone(), notify: self.conn.clone(), started: false, taken: 0 };
        self.opened.lock().unwrap().push((sid, make()));
        Some(make())
    }
    /// The request ended: stream arguments it did not finish (or never opened) are cancelled.
    fn release_streams(&self, params: &Value) {
        let opened = std::mem::take(&mut *self.opened.lock().unwrap());
        for (_, incoming) in &opened {
            incoming.cancel();
        }
        if let Value::Array(items) = params {
            for sid in items.iter().filter_map(stream::marker_id) {
                if !opened.iter().any(|(s, _)| *s == sid) {
                    self.conn.notify("$/stream/cancel", Value::object(vec![("stream", Value::Number(sid as f64))]));
                }
            }
        }
    }
}

impl Conn {
    /// Frames and writes one message; a result over the frame limit becomes FRAME_TOO_LARGE.
    fn send(&self, msg: &Value) {
        let mut body = if self.binary.load(Ordering::Relaxed) { attach::encode(msg) } else { msg.to_json().into_bytes() };
        if body.len() > self.max_frame {
            let Some(id) = msg.get("id").filter(|_| msg.get("result").is_some()) else { return };
            body = error_message(id, &Error::new("FRAME_TOO_LARGE", "result over the frame limit"), &self.plugin_id, None).to_json().into_bytes();
        }
        let frame = wire::frame(self.framing, body);
        let mut out = self.out.lock().unwrap();
        if out.write_all(&frame).and_then(|_| out.flush()).is_err() {
            std::process::exit(0); // the host is gone
        }
    }
    fn notify(&self, method: &str, params: Value) {
        self.send(&Value::object(vec![("jsonrpc", Value::str("2.0")), ("method", Value::str(method)), ("params", params)]));
    }
    fn answer(&self, id: &Value, result: Result<Value, Error>, method: Option<&str>) {
        match result {
            Ok(v) => self.send(&Value::object(vec![("jsonrpc", Value::str("2.0")), ("id", id.clone()), ("result", v)])),
            Err(e) => self.send(&error_message(id, &e, &self.plugin_id, method)),
        }
    }
}

fn error_message(id: &Value, e: &Error, plugin: &str, method: Option<&str>) -> Value {
    let number = NUMERIC.iter().find(|(c, _)| *c == e.code).map_or(APPLICATION_ERROR, |(_, n)| *n);
    let mut data = vec![("code", Value::str(&e.code)), ("plugin", Value::str(plugin))];
    if let Some(m) = method {
        data.push(("method", Value::str(m)));
    }
    if let Some(d) = &e.data {
        data.push(("data", d.clone()));
    }
    let error = Value::object(vec![("code", Value::Number(number as f64)), ("message", Value::str(&e.message)), ("data", Value::object(data))]);
    Value::object(vec![("jsonrpc", Value::str("2.0")), ("id", id.clone()), ("error", error)])
}

fn env(name: &str, fallback: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| fallback.to_string())
}

fn die(why: &str) -> ! {
    eprintln!("polyplug: {why}");
    std::process::exit(2)
}

impl Plugin {
    pub fn new() -> Plugin {
        Plugin::default()
    }
    /// Adds a method. Params are always an array of positional arguments: named params (an object)
    /// arrive as one argument, absent params as none (docs/protocol.md 5).
    pub fn method(mut self, name: &str, f: impl Fn(&Ctx, &Value) -> Result<Value, Error> + Send + Sync + 'static) -> Plugin {
        self.names.push(name.to_string());
        self.methods.insert(name.to_string(), Box::new(f));
        self
    }
    /// Adds a stream method: it sends items through the [`Sink`] (each `send` waits for the
    /// consumer's credit) and returns when done; an error ends the stream with that error.
    pub fn stream_method(mut self, name: &str, f: impl Fn(&Ctx, &Value, &mut Sink) -> Result<(), Error> + Send + Sync + 'static) -> Plugin {
        self.names.push(name.to_string());
        self.streams.insert(name.to_string(), Box::new(f));
        self
    }
    /// Runs on `$/activate` with its config; an error refuses activation.
    pub fn on_activate(mut self, f: impl Fn(&Ctx, &Value) -> Result<(), Error> + Send + Sync + 'static) -> Plugin {
        self.activate = Some(Box::new(f));
        self
    }
    /// Runs on `$/shutdown`, before the answer.
    pub fn on_deactivate(mut self, f: impl Fn() + Send + Sync + 'static) -> Plugin {
        self.deactivate = Some(Box::new(f));
        self
    }

    /// Reads POLYPLUG_* from the environment, connects and serves until shutdown or end of stream.
    pub fn run(self) -> ! {
        let framing = Framing::from_env(&env("POLYPLUG_FRAMING", "length")).unwrap_or_else(|| die("unsupported POLYPLUG_FRAMING"));
        if env("POLYPLUG_ENCODING", "json") != "json" {
            die("this kit speaks only the json encoding");
        }
        let max_frame = env("POLYPLUG_MAX_FRAME_BYTES", "16777216").parse().unwrap_or(16_777_216);
        let (input, output) = wire::open(&env("POLYPLUG_TRANSPORT", "stdio")).unwrap_or_else(|e| die(&e));
        wire::watch_host(env("POLYPLUG_HOST_PID", "0").parse().unwrap_or(0));
        let conn = Arc::new(Conn {
            out: Mutex::new(output),
            framing,
            max_frame,
            plugin_id: env("POLYPLUG_PLUGIN_ID", "rust-plugin"),
            next_id: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            streams: stream::Streams::default(),
            binary: AtomicBool::new(false),
        });
        let token = env("POLYPLUG_TOKEN", "");
        let plugin = Arc::new(self);
        let mut reader = Reader::new(input, framing, max_frame);
        loop {
            let body = match reader.next() {
                Ok(Some(body)) => body,
                Ok(None) => std::process::exit(0), // end of stream: the host closed the channel
                Err(why) => {
                    eprintln!("polyplug: {why}");
                    std::process::exit(1) // framing broke: the stream cannot be resynchronised
                }
            };
            plugin.dispatch(&conn, &token, &body);
        }
    }

    fn dispatch(self: &Arc<Self>, conn: &Arc<Conn>, token: &str, body: &[u8]) {
        let (text, area) = match attach::split(body) {
            Ok(parts) => parts,
            Err(why) => return conn.answer(&Value::Null, Err(Error::new("PARSE_ERROR", why)), None),
        };
        let msg = match json::parse(text) {
            Ok(m) => m,
            Err(json::ParseError::TooDeep) => return conn.answer(&Value::Null, Err(Error::new("MESSAGE_TOO_DEEP", "message nested deeper than 64 levels")), None),
            Err(json::ParseError::Syntax) => return conn.answer(&Value::Null, Err(Error::new("PARSE_ERROR", "the frame is not valid JSON")), None),
        };
        let msg = match area {
            None => msg,
            Some(area) => match attach::resolve(msg, area) {
                Ok(resolved) => resolved,
                Err(why) => return conn.answer(&Value::Null, Err(Error::new("PARSE_ERROR", why)), None),
            },
        };
        let id = msg.get("id");
        let id_ok = matches!(id, None | Some(Value::Number(_) | Value::String(_) | Value::Null));
        let invalid = |id: Option<&Value>| conn.answer(id.filter(|_| id_ok).unwrap_or(&Value::Null), Err(Error::new("INVALID_REQUEST", "not a JSON-RPC 2.0 message")), None);
        if !matches!(msg, Value::Object(_)) || msg.get("jsonrpc") != Some(&Value::str("2.0")) || !id_ok {
            return invalid(id);
        }
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let Some(method) = msg.get("method") else {
            // a response to one of our host calls; one nobody waits for (cancelled) is ignored
            if let (Some(Value::Number(n)), true) = (id, msg.get("result").is_some() || msg.get("error").is_some()) {
                if let Some(tx) = conn.calls.lock().unwrap().remove(&(*n as u64)) {
                    let _ = tx.send(msg);
                }
                return;
            }
            return invalid(id);
        };
        let Some(method) = method.as_str() else { return invalid(id) };
        if !matches!(params, Value::Array(_) | Value::Object(_) | Value::Null) {
            if id.is_some() {
                invalid(id);
            }
            return;
        }
        let Some(id) = id.filter(|i| **i != Value::Null) else {
            if method.starts_with("$/stream/") {
                return conn.streams.receive(method, &params, conn.as_ref());
            }
            if CANCEL_METHODS.contains(&method) {
                if let Some(target) = params.get("id") {
                    if let Some(c) = conn.active.lock().unwrap().get(&target.to_json()) {
                        *c.done.lock().unwrap() = true;
                        c.wake.notify_all();
                    }
                }
            }
            return; // other notifications are ignored
        };
        let reply = |r: Result<Value, Error>| conn.answer(id, r, Some(method));
        match method {
            "$/hello" => {
                let speaks = matches!(params.get("protocol"), Some(Value::Array(v)) if v.contains(&Value::Number(1.0)));
                if !speaks {
                    return reply(Err(Error::new("PROTOCOL_MISMATCH", "this plugin speaks protocol 1")));
                }
                let methods = Value::Array(self.names.iter().map(|n| Value::str(n)).collect());
                // bytes as attachments: on a byte stream whose framing carries any byte
                let offered = matches!(params.get("capabilities"), Some(Value::Array(v)) if v.contains(&Value::str(attach::CAPABILITY)));
                let mut capabilities = vec![Value::str("streams")];
                if offered && conn.framing != Framing::Ndjson {
                    conn.binary.store(true, Ordering::Relaxed);
                    capabilities.push(Value::str(attach::CAPABILITY));
                }
                reply(Ok(Value::object(vec![("protocol", Value::Number(1.0)), ("id", Value::str(&conn.plugin_id)), ("methods", methods), ("encodings", Value::Array(vec![Value::str("json")])), ("capabilities", Value::Array(capabilities)), ("token", Value::str(token))])))
            }
            "$/ping" => reply(Ok(Value::object(vec![]))),
            "$/shutdown" => {
                if let Some(f) = &self.deactivate {
                    f();
                }
                reply(Ok(Value::object(vec![])));
                std::process::exit(0);
            }
            _ => {
                let key = id.to_json();
                let cancel = Arc::new(Cancel { done: Mutex::new(false), wake: Condvar::new() });
                {
                    let mut active = conn.active.lock().unwrap();
                    if active.contains_key(&key) {
                        return reply(Err(Error::new("DUPLICATE_REQUEST_ID", "request id already in flight")));
                    }
                    if method != "$/activate" && !self.methods.contains_key(method) && !self.streams.contains_key(method) {
                        drop(active);
                        return reply(Err(Error::new("METHOD_NOT_FOUND", "no such method")));
                    }
                    active.insert(key.clone(), cancel.clone());
                }
                let traceparent = msg.get("traceparent").and_then(Value::as_str).map(str::to_string);
                let ctx = Ctx { id: id.clone(), cancel, conn: conn.clone(), traceparent, opened: Mutex::new(Vec::new()) };
                let plugin = self.clone();
                let method = method.to_string();
                POOL.run(Box::new(move || {
                    if let Some(produce) = plugin.streams.get(&method) {
                        // Announce the stream, then produce it on this thread under the consumer's credit.
                        let (sid, producer) = ctx.conn.streams.produce(ctx.cancel.clone());
                        ctx.conn.active.lock().unwrap().remove(&key);
                        ctx.conn.answer(&ctx.id, Ok(stream::marker(sid)), Some(&method));
                        let mut sink = Sink { sid, producer, notify: ctx.conn.clone() };
                        let result = produce(&ctx, &params, &mut sink);
                        ctx.conn.streams.finish_producing(sid);
                        sink.end(result);
                        ctx.release_streams(&params);
                        return;
                    }
                    let result = if method == "$/activate" {
                        let config = ctx_config(&params);
                        match &plugin.activate {
                            Some(f) => f(&ctx, &config).map(|_| Value::object(vec![])),
                            None => Ok(Value::object(vec![])),
                        }
                    } else {
                        (plugin.methods[&method])(&ctx, &positional(params.clone()))
                    };
                    ctx.conn.active.lock().unwrap().remove(&key);
                    ctx.release_streams(&params);
                    ctx.conn.answer(&ctx.id, result, Some(&method));
                }));
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;
type Queue = (mpsc::Sender<Job>, Arc<Mutex<mpsc::Receiver<Job>>>);

/// Request threads, kept for reuse: spawning a thread per call costs more than the call itself.
/// A new thread starts only when every existing one is busy, so blocking methods never starve.
struct Pool {
    jobs: Mutex<Option<Queue>>,
    idle: AtomicU64,
}

static POOL: Pool = Pool { jobs: Mutex::new(None), idle: AtomicU64::new(0) };

impl Pool {
    fn run(&'static self, job: Job) {
        let mut jobs = self.jobs.lock().unwrap();
        let (tx, rx) = jobs.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel();
            (tx, Arc::new(Mutex::new(rx)))
        });
        // Claim an idle thread (under the lock, so each claim matches one thread about to receive),
        // or start one: a queued job never waits behind a busy one.
        if self.idle.load(Ordering::SeqCst) > 0 {
            self.idle.fetch_sub(1, Ordering::SeqCst);
        } else {
            let rx = rx.clone();
            std::thread::spawn(move || loop {
                let next = rx.lock().unwrap().recv();
                let Ok(job) = next else { return };
                job();
                self.idle.fetch_add(1, Ordering::SeqCst);
            });
        }
        let _ = tx.send(job);
    }
}

fn ctx_config(params: &Value) -> Value {
    params.get("config").cloned().unwrap_or(Value::Null)
}

