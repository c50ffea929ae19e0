//! The conformance interface (docs/conformance.md) as a native plugin in Rust, on serde_json.
//! Built into examples/native-rust-inline and examples/native-rust-worker by `npm run build:native`.
mod polyplug;

use polyplug::{args, error_body, give, json, number, to_json, Host, Plugin, Value, ERROR, OK};
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Per-plugin state: one library may serve several plugins in one process, so nothing lives in statics.
struct Instance {
    host: *const Host,
    cancelled: AtomicU32,
}

unsafe extern "C" fn init(host: *const Host, _config: *const u8, _len: usize, instance: *mut *mut c_void) -> i32 {
    *instance = Box::into_raw(Box::new(Instance { host, cancelled: AtomicU32::new(0) })) as *mut c_void;
    polyplug::log(&*host, polyplug::LOG_DEBUG, "native Rust conformance plugin initialised");
    OK
}

unsafe extern "C" fn shutdown(instance: *mut c_void) {
    if !instance.is_null() {
        drop(Box::from_raw(instance as *mut Instance));
    }
}

/// Argument `i` as a number (0 when absent or not a number).
fn f64_at(args: &[Value], i: usize) -> f64 {
    args.get(i).and_then(Value::as_f64).unwrap_or(0.0)
}

fn sleep(this: &Instance, args: &[Value], cancelled: *const i32) -> Result<Vec<u8>, Vec<u8>> {
    let ms = f64_at(args, 0);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() * 1000.0 < ms {
        // The host sets the flag from another thread: read it as volatile memory.
        if unsafe { std::ptr::read_volatile(cancelled) } != 0 {
            this.cancelled.fetch_add(1, Ordering::SeqCst);
            return Err(error_body("RPC_CANCELLED", "sleep cancelled"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(to_json(&number(ms)))
}

/// `{"$bytes": base64}` of the bytes 0, 1, 2, ... (mod 256), `n` of them.
fn bytes(n: usize) -> Vec<u8> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(n.div_ceil(3) * 4);
    for i in (0..n).step_by(3) {
        let b = |k: usize| if i + k < n { ((i + k) & 255) as u32 } else { 0 };
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        text.push(B64[(v >> 18) as usize & 63] as char);
        text.push(B64[(v >> 12) as usize & 63] as char);
        text.push(if i + 1 < n { B64[(v >> 6) as usize & 63] as char } else { '=' });
        text.push(if i + 2 < n { B64[v as usize & 63] as char } else { '=' });
    }
    to_json(&json!({ "$bytes": text }))
}

fn call_host(this: &Instance, args: &[Value]) -> Result<Vec<u8>, Vec<u8>> {
    let method = args.first().and_then(Value::as_str).ok_or_else(|| error_body("INVALID_PARAMS", "callHost(method, args)"))?;
    let params = args.get(1).cloned().unwrap_or_else(|| json!([]));
    polyplug::call_host(unsafe { &*this.host }, method, &to_json(&params))
}

fn dispatch(this: &Instance, method: &str, input: &[u8], cancelled: *const i32) -> Result<Vec<u8>, Vec<u8>> {
    let args = args(input);
    match method {
        "echo" => Ok(to_json(args.first().unwrap_or(&Value::Null))),
        "add" => Ok(to_json(&number(f64_at(&args, 0) + f64_at(&args, 1)))),
        "fail" => match args.first().and_then(Value::as_str) {
            Some(code) => Err(to_json(&json!({ "code": code, "message": "failed on request" }))),
            None => Err(error_body("INVALID_PARAMS", "fail(code) needs a string")),
        },
        "sleep" => sleep(this, &args, cancelled),
        "cancelCount" => Ok(to_json(&number(this.cancelled.load(Ordering::SeqCst) as f64))),
        "bytes" => Ok(bytes(f64_at(&args, 0) as usize)),
        "callHost" => call_host(this, &args),
        "crash" => unsafe {
            // A real segfault: only isolated placements survive it.
            std::ptr::write_volatile(std::ptr::null_mut::<i32>(), 1);
            unreachable!()
        },
        _ => Err(error_body("METHOD_NOT_FOUND", "no such method")),
    }
}

unsafe extern "C" fn call(instance: *mut c_void, method: *const c_char, input: *const u8, len: usize, out: *mut *mut u8, out_len: *mut usize, cancelled: *const i32) -> i32 {
    let method = CStr::from_ptr(method).to_str().unwrap_or("");
    let input = if input.is_null() { &[][..] } else { std::slice::from_raw_parts(input, len) };
    if instance.is_null() {
        give(error_body("HOST_CALL_UNAVAILABLE", "not initialised"), out, out_len);
        return ERROR;
    }
    match dispatch(&*(instance as *const Instance), method, input, cancelled) {
        Ok(body) => { give(body, out, out_len); OK }
        Err(body) => { give(body, out, out_len); ERROR }
    }
}

static DESCRIPTOR: Plugin = Plugin {
    abi_version: polyplug::ABI_VERSION,
    size: std::mem::size_of::<Plugin>() as u32,
    name: b"conformance-rust\0".as_ptr() as *const c_char,
    methods: b"echo,add,fail,sleep,cancelCount,bytes,callHost,crash\0".as_ptr() as *const c_char,
    init: Some(init),
    call,
    release: polyplug::release,
    shutdown: Some(shutdown),
};

#[no_mangle]
pub extern "C" fn polyplug_plugin_v1() -> *const Plugin {
    &DESCRIPTOR
}
