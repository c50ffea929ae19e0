//! The polyplug native ABI, version 1, for Rust (the C original: kits/c/include/polyplug.h;
//! normative text: docs/native-abi.md). Copy this file into a `cdylib` crate, build a static
//! `Plugin` descriptor, and export it with `#[no_mangle] extern "C" fn polyplug_plugin_v1()`.
//! Values cross the boundary as UTF-8 JSON, read and written with serde_json (Debian's
//! librust-serde-json-dev, offline through .cargo/config.toml); see the header for who frees what.
#![allow(dead_code)]

pub use serde_json::{json, Value};
use std::ffi::{c_char, c_void};

pub const ABI_VERSION: u32 = 1;
pub const OK: i32 = 0;
pub const ERROR: i32 = 1;
pub const LOG_DEBUG: i32 = 0;
pub const LOG_INFO: i32 = 1;
pub const LOG_WARN: i32 = 2;
pub const LOG_ERROR: i32 = 3;

/// What the host passes to `init` (`polyplug_host` in C).
#[repr(C)]
pub struct Host {
    pub abi_version: u32,
    pub size: u32,
    pub ctx: *mut c_void,
    pub call: unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, usize, *mut *mut u8, *mut usize) -> i32,
    pub log: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    pub alloc: unsafe extern "C" fn(usize) -> *mut c_void,
    pub free: unsafe extern "C" fn(*mut c_void),
}

/// The descriptor `polyplug_plugin_v1` returns (`polyplug_plugin` in C).
#[repr(C)]
pub struct Plugin {
    pub abi_version: u32,
    pub size: u32,
    pub name: *const c_char,
    pub methods: *const c_char,
    /// `(host, config, config_len, &mut instance)`: per-plugin state goes in `*instance`, not in statics.
    pub init: Option<unsafe extern "C" fn(*const Host, *const u8, usize, *mut *mut c_void) -> i32>,
    /// `(instance, method, in, in_len, &mut out, &mut out_len, cancelled)`.
    pub call: unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, usize, *mut *mut u8, *mut usize, *const i32) -> i32,
    pub release: unsafe extern "C" fn(*mut u8, usize),
    /// `(instance)`: frees what `init` made.
    pub shutdown: Option<unsafe extern "C" fn(*mut c_void)>,
}

// The descriptor holds only pointers to static strings and functions.
unsafe impl Sync for Plugin {}

/// Hands `bytes` to the host as a call's output; `release` gets them back.
pub fn give(bytes: Vec<u8>, out: *mut *mut u8, out_len: *mut usize) {
    let boxed = bytes.into_boxed_slice();
    unsafe {
        *out_len = boxed.len();
        *out = Box::into_raw(boxed) as *mut u8;
    }
}

/// The `release` for buffers made by `give`.
pub unsafe extern "C" fn release(buffer: *mut u8, len: usize) {
    if !buffer.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(buffer, len)));
    }
}

/// A `{"code":..,"message":..}` error body.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    to_json(&json!({ "code": code, "message": message }))
}

/// A call's positional arguments (the input is a JSON array; anything else reads as none).
pub fn args(input: &[u8]) -> Vec<Value> {
    serde_json::from_slice(input).unwrap_or_default()
}

/// JSON text of `value`, for a call's output or a host call's params.
pub fn to_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a serde_json::Value always serialises")
}

/// A number as JSON: integers without a fraction, like JavaScript prints them.
pub fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 { Value::from(value as i64) } else { Value::from(value) }
}

/// Calls the host API: `method` with JSON `params` (an array). Ok(JSON result) or Err(JSON error).
pub fn call_host(host: &Host, method: &str, params: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let mut name = method.as_bytes().to_vec();
    name.push(0);
    let mut out: *mut u8 = std::ptr::null_mut();
    let mut out_len: usize = 0;
    let status = unsafe { (host.call)(host.ctx, name.as_ptr() as *const c_char, params.as_ptr(), params.len(), &mut out, &mut out_len) };
    let body = if out.is_null() { Vec::new() } else { unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec() };
    // The answer is the host's buffer: copied above, freed with the host's allocator.
    unsafe { (host.free)(out as *mut c_void) };
    if status == OK { Ok(body) } else { Err(body) }
}

/// A line in the host's log.
pub fn log(host: &Host, level: i32, message: &str) {
    let mut text = message.replace('\0', " ").into_bytes();
    text.push(0);
    unsafe { (host.log)(host.ctx, level, text.as_ptr() as *const c_char) };
}
