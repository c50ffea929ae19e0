//! The conformance interface (docs/conformance.md) in Rust, on kits/rust-sidecar.
use polyplug::{Error, Plugin, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static CANCELLED: AtomicU64 = AtomicU64::new(0);
static PRODUCED: AtomicU64 = AtomicU64::new(0);

fn number(params: &Value, i: usize) -> Result<f64, Error> {
    params.at(i).and_then(Value::as_f64).ok_or_else(|| Error::new("INVALID_PARAMS", "expected a number"))
}

fn main() {
    Plugin::new()
        .method("echo", |_, p| Ok(p.at(0).cloned().unwrap_or(Value::Null)))
        .method("add", |_, p| Ok(Value::Number(number(p, 0)? + number(p, 1)?)))
        .method("fail", |_, p| {
            let code = p.at(0).and_then(Value::as_str).unwrap_or("E_CONFORMANCE");
            Err(Error::new(code, &format!("failed on request with code {code}")))
        })
        .method("sleep", |ctx, p| {
            let ms = number(p, 0)?;
            if ctx.sleep(Duration::from_millis(ms.max(0.0) as u64)) {
                CANCELLED.fetch_add(1, Ordering::SeqCst);
                return Err(Error::new("RPC_CANCELLED", "sleep cancelled"));
            }
            Ok(Value::Number(ms))
        })
        .method("cancelCount", |_, _| Ok(Value::Number(CANCELLED.load(Ordering::SeqCst) as f64)))
        .method("bytes", |_, p| Ok(Value::Bytes((0..number(p, 0)? as usize).map(|i| i as u8).collect())))
        .method("callHost", |ctx, p| {
            let method = p.at(0).and_then(Value::as_str).ok_or_else(|| Error::new("INVALID_PARAMS", "callHost(method, args)"))?;
            ctx.call(method, p.at(1).cloned().unwrap_or(Value::Array(vec![])))
        })
        .method("crash", |_, _| std::process::abort())
        // A stream out: 0..n-1; with failAt, E_STREAM there. Stopped by its consumer, it counts as cancelled.
        .stream_method("count", |_, p, sink| {
            let n = number(p, 0)? as u64;
            let fail_at = p.at(1).and_then(Value::as_f64).map(|f| f as u64);
            for i in 0..n {
                if Some(i) == fail_at {
                    return Err(Error::new("E_STREAM", &format!("count failed at {i}")));
                }
                PRODUCED.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = sink.send(Value::Number(i as f64)) {
                    CANCELLED.fetch_add(1, Ordering::SeqCst);
                    return Err(e);
                }
            }
            Ok(())
        })
        .method("produced", |_, _| Ok(Value::Number(PRODUCED.load(Ordering::SeqCst) as f64)))
        // A stream in: the sum of its numbers and the lengths of its byte chunks.
        .method("sum", |ctx, p| {
            let items = ctx.stream(p.at(0)).ok_or_else(|| Error::new("INVALID_PARAMS", "sum(stream)"))?;
            let mut total = 0.0;
            for item in items {
                total += match item? {
                    Value::Number(n) => n,
                    Value::Bytes(b) => b.len() as f64,
                    _ => return Err(Error::new("INVALID_PARAMS", "sum takes numbers or bytes")),
                };
            }
            Ok(Value::Number(total))
        })
        .on_activate(|ctx, _config| {
            ctx.log("debug", &format!("activated {}", ctx.plugin_id()));
            Ok(())
        })
        .run()
}
