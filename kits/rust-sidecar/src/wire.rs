//! Transports (docs/protocol.md §2) and framing (§3) over std streams.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::io::FromRawFd;
use std::os::unix::net::UnixStream;

#[derive(Clone, Copy, PartialEq)]
pub enum Framing {
    Length,
    ContentLength,
    Ndjson,
}

impl Framing {
    pub fn from_env(name: &str) -> Option<Framing> {
        match name {
            "length" => Some(Framing::Length),
            "content-length" => Some(Framing::ContentLength),
            "ndjson" => Some(Framing::Ndjson),
            _ => None,
        }
    }
}

/// One frame, header and body together, so that one write sends it.
pub fn frame(framing: Framing, mut body: Vec<u8>) -> Vec<u8> {
    let mut out = match framing {
        Framing::Length => (body.len() as u32).to_be_bytes().to_vec(),
        Framing::ContentLength => format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes(),
        Framing::Ndjson => {
            body.push(b'\n');
            return body;
        }
    };
    out.extend_from_slice(&body);
    out
}

/// Reads frames off the input stream.
pub struct Reader {
    input: BufReader<Box<dyn Read + Send>>,
    framing: Framing,
    max: usize,
}

impl Reader {
    pub fn new(input: Box<dyn Read + Send>, framing: Framing, max: usize) -> Reader {
        Reader { input: BufReader::with_capacity(1 << 16, input), framing, max }
    }

    /// The next frame body; `Ok(None)` at a clean end of stream; `Err` when framing broke.
    pub fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self.framing {
            Framing::Length => {
                let mut head = [0u8; 4];
                if !read_exact_or_eof(&mut self.input, &mut head)? {
                    return Ok(None);
                }
                let len = u32::from_be_bytes(head) as usize;
                self.body(len).map(Some)
            }
            Framing::Ndjson => loop {
                let mut line = Vec::new();
                let n = (&mut self.input).take(self.max as u64 + 2).read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Ok(None);
                }
                if line.last() != Some(&b'\n') {
                    return Err(if n > self.max { "FRAME_TOO_LARGE: incoming line over the limit" } else { "FRAME_INVALID: stream ended inside a frame" }.into());
                }
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.is_empty() {
                    return Ok(Some(line));
                }
            },
            Framing::ContentLength => {
                let (mut len, mut header_bytes, mut first) = (None, 0usize, true);
                loop {
                    let mut line = Vec::new();
                    let n = (&mut self.input).take(8192).read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
                    if n == 0 && first {
                        return Ok(None);
                    }
                    first = false;
                    header_bytes += n;
                    if header_bytes > 8192 || !line.ends_with(b"\r\n") || !line.is_ascii() {
                        return Err("FRAME_INVALID: bad header block".into());
                    }
                    let text = String::from_utf8_lossy(&line[..line.len() - 2]).to_string();
                    if text.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = text.split_once(':') {
                        if name.trim().eq_ignore_ascii_case("content-length") {
                            len = Some(value.trim().parse::<usize>().map_err(|_| "FRAME_INVALID: bad Content-Length".to_string())?);
                        }
                    } else {
                        return Err("FRAME_INVALID: bad header line".into());
                    }
                }
                let len = len.ok_or("FRAME_INVALID: missing Content-Length")?;
                self.body(len).map(Some)
            }
        }
    }

    fn body(&mut self, len: usize) -> Result<Vec<u8>, String> {
        // checked before buffering (docs/protocol.md §3.4)
        if len > self.max {
            return Err("FRAME_TOO_LARGE: incoming frame over the limit".into());
        }
        let mut body = vec![0u8; len];
        match read_exact_or_eof(&mut self.input, &mut body)? {
            true => Ok(body),
            false if len == 0 => Ok(body),
            false => Err("FRAME_INVALID: stream ended inside a frame".into()),
        }
    }
}

/// Fills `buf`: true when full, false on end of stream before the first byte; Err on a partial read.
fn read_exact_or_eof(input: &mut impl Read, buf: &mut [u8]) -> Result<bool, String> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err("FRAME_INVALID: stream ended inside a frame".into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(true)
}

extern "C" {
    fn dup(fd: i32) -> i32;
    fn dup2(from: i32, to: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

type Streams = (Box<dyn Read + Send>, Box<dyn Write + Send>);

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} missing"))
}

/// Opens the channel named by POLYPLUG_TRANSPORT.
pub fn open(transport: &str) -> Result<Streams, String> {
    match transport {
        "stdio" => {
            // keep the real stdout for the channel; stray println! output goes to stderr (the host log)
            let _ = io::stdout().flush();
            // SAFETY: plain descriptor calls on fds 1 and 2, which every process has.
            let out = unsafe { dup(1) };
            if out < 0 || unsafe { dup2(2, 1) } < 0 {
                return Err("cannot set up stdio".into());
            }
            // SAFETY: `out` is a fresh descriptor owned by nobody else.
            let out = unsafe { File::from_raw_fd(out) };
            Ok((Box::new(io::stdin()), Box::new(out)))
        }
        "fifo" => {
            // OUT first: the host already reads it (docs/protocol.md §2.2)
            let out = OpenOptions::new().write(true).open(var("POLYPLUG_FIFO_OUT")?).map_err(|e| e.to_string())?;
            let input = File::open(var("POLYPLUG_FIFO_IN")?).map_err(|e| e.to_string())?;
            Ok((Box::new(input), Box::new(out)))
        }
        "unix" => {
            let s = UnixStream::connect(var("POLYPLUG_SOCKET")?).map_err(|e| format!("cannot connect to POLYPLUG_SOCKET: {e}"))?;
            Ok((Box::new(s.try_clone().map_err(|e| e.to_string())?), Box::new(s)))
        }
        "tcp" => {
            let s = TcpStream::connect(var("POLYPLUG_ADDRESS")?).map_err(|e| format!("cannot connect to POLYPLUG_ADDRESS: {e}"))?;
            let _ = s.set_nodelay(true);
            Ok((Box::new(s.try_clone().map_err(|e| e.to_string())?), Box::new(s)))
        }
        other => Err(format!("unsupported POLYPLUG_TRANSPORT {other}")),
    }
}

/// Exits once a second after POLYPLUG_HOST_PID is gone (docs/protocol.md §9).
pub fn watch_host(pid: i32) {
    if pid <= 0 {
        return;
    }
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { kill(pid, 0) } != 0 && io::Error::last_os_error().raw_os_error() == Some(3 /* ESRCH */) {
            std::process::exit(0);
        }
    });
}
