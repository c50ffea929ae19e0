//! Streams (docs/protocol.md §7.1): a stream method sends items through a [`Sink`], which waits
//! while the consumer has granted no credit; a `{"$stream": SID}` argument is read through
//! [`Incoming`], an iterator that grants credit as it is consumed. Items travel as
//! `$/stream/item`, credit as `$/stream/credit`, the end (with an error when the producer failed)
//! as `$/stream/end`, and `$/stream/cancel` stops a producer.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::{Cancel, Error, Value};

/// Items a consumer lets its producer send ahead.
pub const WINDOW: u64 = 16;

/// The marker that announces stream `sid` in a result or an argument.
pub fn marker(sid: u64) -> Value {
    Value::object(vec![("$stream", Value::Number(sid as f64))])
}

/// The SID of a `{"$stream": SID}` marker.
pub fn marker_id(value: &Value) -> Option<u64> {
    match value {
        Value::Object(members) if members.len() == 1 && members[0].0 == "$stream" => match members[0].1 {
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Some(n as u64),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Default)]
struct ProducerState {
    credit: u64,
    cancelled: bool,
}

/// One stream this plugin produces.
pub(crate) struct Producer {
    state: Mutex<ProducerState>,
    wake: Condvar,
    /// The request's cancellation: a cancelled stream also wakes `Ctx::sleep`.
    cancel: Arc<Cancel>,
}

#[derive(Default)]
struct ConsumerState {
    items: VecDeque<Value>,
    outstanding: u64,
    finished: bool,
    error: Option<Error>,
}

/// One stream this plugin consumes.
pub(crate) struct Consumer {
    state: Mutex<ConsumerState>,
    wake: Condvar,
}

/// Every stream of the connection, both directions.
#[derive(Default)]
pub(crate) struct Streams {
    next: AtomicU64,
    producing: Mutex<HashMap<u64, Arc<Producer>>>,
    consuming: Mutex<HashMap<u64, Arc<Consumer>>>,
}

/// How streams send their notifications.
pub(crate) trait Notify: Send + Sync {
    fn notify(&self, method: &str, params: Value);
    fn wire_error(&self, error: &Error) -> Value;
}

impl Streams {
    pub(crate) fn produce(&self, cancel: Arc<Cancel>) -> (u64, Arc<Producer>) {
        let sid = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let producer = Arc::new(Producer { state: Mutex::new(ProducerState::default()), wake: Condvar::new(), cancel });
        self.producing.lock().unwrap().insert(sid, producer.clone());
        (sid, producer)
    }

    pub(crate) fn finish_producing(&self, sid: u64) {
        self.producing.lock().unwrap().remove(&sid);
    }

    pub(crate) fn consume(&self, sid: u64) -> Arc<Consumer> {
        let consumer = Arc::new(Consumer { state: Mutex::new(ConsumerState::default()), wake: Condvar::new() });
        self.consuming.lock().unwrap().insert(sid, consumer.clone());
        consumer
    }

    /// Handles a `$/stream/*` notification.
    pub(crate) fn receive(&self, method: &str, params: &Value, notify: &dyn Notify) {
        let Some(sid) = params.get("stream").and_then(Value::as_f64).map(|n| n as u64) else { return };
        match method {
            "$/stream/item" | "$/stream/end" => {
                let Some(consumer) = self.consuming.lock().unwrap().get(&sid).cloned() else { return };
                let mut state = consumer.state.lock().unwrap();
                if state.finished {
                    return;
                }
                let overrun = method == "$/stream/item" && state.outstanding == 0;
                if method == "$/stream/end" {
                    state.finished = true;
                    state.error = params.get("error").map(error_from_wire);
                } else if overrun {
                    state.finished = true;
                    state.items.clear();
                    state.error = Some(Error::new("STREAM_OVERRUN", "the producer sent more items than it was granted"));
                } else {
                    state.outstanding -= 1;
                    state.items.push_back(params.get("value").cloned().unwrap_or(Value::Null));
                }
                let finished = state.finished;
                drop(state);
                consumer.wake.notify_all();
                if finished {
                    self.consuming.lock().unwrap().remove(&sid);
                }
                if overrun {
                    notify.notify("$/stream/cancel", Value::object(vec![("stream", Value::Number(sid as f64))]));
                }
            }
            "$/stream/credit" | "$/stream/cancel" => {
                let Some(producer) = self.producing.lock().unwrap().get(&sid).cloned() else { return };
                let mut state = producer.state.lock().unwrap();
                if method == "$/stream/cancel" {
                    state.cancelled = true;
                    *producer.cancel.done.lock().unwrap() = true;
                    producer.cancel.wake.notify_all();
                } else if let Some(n) = params.get("n").and_then(Value::as_f64).filter(|n| *n >= 1.0) {
                    state.credit += (n as u64).min(65_536);
                }
                producer.wake.notify_all();
            }
            _ => {}
        }
    }
}

fn error_from_wire(e: &Value) -> Error {
    let code = e.get("data").and_then(|d| d.get("code")).and_then(Value::as_str).unwrap_or("INTERNAL_ERROR");
    Error::new(code, e.get("message").and_then(Value::as_str).unwrap_or(""))
}

/// Where a stream method puts its items.
pub struct Sink {
    pub(crate) sid: u64,
    pub(crate) producer: Arc<Producer>,
    pub(crate) notify: Arc<dyn Notify>,
}

impl Sink {
    /// Sends one item, waiting while the consumer has granted no credit. Fails with
    /// `RPC_CANCELLED` once the consumer cancelled: return that error to stop.
    pub fn send(&mut self, value: Value) -> Result<(), Error> {
        {
            let state = self.producer.state.lock().unwrap();
            let mut state = self.producer.wake.wait_while(state, |s| s.credit == 0 && !s.cancelled).unwrap();
            if state.cancelled {
                return Err(Error::new("RPC_CANCELLED", "the consumer cancelled the stream"));
            }
            state.credit -= 1;
        }
        self.notify.notify("$/stream/item", Value::object(vec![("stream", Value::Number(self.sid as f64)), ("value", value)]));
        Ok(())
    }

    /// Whether the consumer cancelled the stream.
    pub fn cancelled(&self) -> bool {
        self.producer.state.lock().unwrap().cancelled
    }

    /// Ends the stream: `$/stream/end`, with the error when `result` is one; nothing after a cancel.
    pub(crate) fn end(self, result: Result<(), Error>) {
        if self.cancelled() {
            return;
        }
        let mut params = vec![("stream", Value::Number(self.sid as f64))];
        if let Err(e) = &result {
            params.push(("error", self.notify.wire_error(e)));
        }
        self.notify.notify("$/stream/end", Value::object(params));
    }
}

/// A stream argument, read as an iterator of items; an error item ends it.
pub struct Incoming {
    pub(crate) sid: u64,
    pub(crate) consumer: Arc<Consumer>,
    pub(crate) notify: Arc<dyn Notify>,
    pub(crate) started: bool,
    pub(crate) taken: u64,
}

impl Incoming {
    fn grant(&self, n: u64) {
        self.consumer.state.lock().unwrap().outstanding += n;
        self.notify.notify("$/stream/credit", Value::object(vec![("stream", Value::Number(self.sid as f64)), ("n", Value::Number(n as f64))]));
    }

    /// Stops reading: the producer is told to stop (also done when the method returns).
    pub fn cancel(&self) {
        let mut state = self.consumer.state.lock().unwrap();
        if !state.finished {
            state.finished = true;
            state.items.clear();
            drop(state);
            self.notify.notify("$/stream/cancel", Value::object(vec![("stream", Value::Number(self.sid as f64))]));
        }
    }

    pub(crate) fn finished(&self) -> bool {
        self.consumer.state.lock().unwrap().finished
    }
}

impl Iterator for Incoming {
    type Item = Result<Value, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            if !self.finished() {
                self.grant(WINDOW);
            }
        }
        let mut state = self.consumer.state.lock().unwrap();
        state = self.consumer.wake.wait_while(state, |s| s.items.is_empty() && !s.finished).unwrap();
        if let Some(item) = state.items.pop_front() {
            let finished = state.finished;
            drop(state);
            self.taken += 1;
            if !finished && self.taken * 2 >= WINDOW {
                let n = self.taken;
                self.taken = 0;
                self.grant(n);
            }
            return Some(Ok(item));
        }
        state.error.take().map(Err)
    }
}
