"""polyplug plugin kit for Python (standard library only).

Implements the sidecar side of docs/protocol.md: the transports stdio, fifo, unix and tcp (here),
shm (polyplug_shm.py), http and ws (polyplug_http.py: its own http.server and WebSocket, from
polyplug_ws.py); the framings length, content-length and ndjson; the JSON encoding (Uint8Array <-> bytes as
{"$bytes": base64}, or as attachments after the JSON once $/hello agreed on "binary"); the $/hello handshake with the launch token; $/activate, $/shutdown, $/ping,
$/cancel (or LSP's $/cancelRequest), $/progress and $/log; calls to the host API; streams both ways
(polyplug_stream.py: a method that returns a generator streams its items, a stream argument arrives
as an iterator); exit when the host is gone.

    import polyplug
    plugin = polyplug.Plugin()

    @plugin.method
    def add(a, b):
        return a + b

    @plugin.method
    def slow(ms, ctx):          # a parameter named ctx receives the call context
        if ctx.cancelled.wait(ms / 1000):
            raise polyplug.PolyplugError("RPC_CANCELLED", "cancelled")
        return ms

    plugin.run()

Each request runs on its own thread (an idle one is reused), so a slow method does not block
cancellation or others.
A Session is one conversation with the host (a byte stream, or one HTTP/WebSocket session): the
same dispatcher serves every transport.
"""
import json
import os
import struct
import sys
import threading
import types

from polyplug_stream import Incoming, Streams, is_stream_source, stream_ref

try:
    from _queue import SimpleQueue   # what queue.SimpleQueue is, without the rest of queue
except ImportError:   # an interpreter without the C module
    from queue import SimpleQueue

# Imported where first used, not here: base64 (a bytes value), socket (the unix and tcp transports),
# inspect (a method that is not a plain function), asyncio (an async stream, polyplug_stream.py).
# Every plugin process imports this kit at start, before its first answer; those four cost more
# than the kit's own code, and most plugins never use them (docs/performance.md, round nine).

PROTOCOL_VERSION = 1
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

# JSON-RPC numeric codes for the polyplug string codes: schema/error-codes.json, which
# test/error-codes.test.ts checks this table against (docs/protocol.md 5.1).
NUMERIC_CODES = {
    "PARSE_ERROR": -32700, "INVALID_REQUEST": -32600, "METHOD_NOT_FOUND": -32601,
    "INVALID_PARAMS": -32602, "INTERNAL_ERROR": -32603,
    "SERVER_NOT_INITIALIZED": -32002, "UNKNOWN_ERROR_CODE": -32001,
    "RPC_CANCELLED": -32800, "CONTENT_MODIFIED": -32801, "SERVER_CANCELLED": -32802, "REQUEST_FAILED": -32803,
    "RPC_TIMEOUT": -31001, "PERMISSION_DENIED": -31002, "FRAME_TOO_LARGE": -31003,
    "MESSAGE_TOO_DEEP": -31004, "DUPLICATE_REQUEST_ID": -31005,
}
APPLICATION_ERROR = -31000
CODES_BY_NUMBER = {n: c for c, n in NUMERIC_CODES.items()}
CANCEL_METHODS = ("$/cancel", "$/cancelRequest")   # polyplug's and LSP's name for the same notification
_POLYPLUG_DATA_KEYS = {"code", "plugin", "method", "data"}


def error_from_wire(error):
    """A PolyplugError from any peer's error object: polyplug's `data` gives the string code;
    a foreign peer's `data` (any JSON value) is kept whole and the code comes from the number."""
    data = error.get("data") if isinstance(error, dict) else None
    message = error.get("message", "") if isinstance(error, dict) else ""
    if isinstance(data, dict) and isinstance(data.get("code"), str) and set(data) <= _POLYPLUG_DATA_KEYS:
        return PolyplugError(data["code"], message, data.get("data"))
    number = error.get("code") if isinstance(error, dict) else None
    return PolyplugError(CODES_BY_NUMBER.get(number, "INTERNAL_ERROR"), message, data)


class PolyplugError(Exception):
    """An error with a stable string code; the code crosses the wire unchanged."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class FrameError(Exception):
    pass


# ---- encoding -------------------------------------------------------------------------------

def _default(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError("cannot encode %r" % type(value).__name__)


def _hook(obj):
    if len(obj) == 1 and isinstance(obj.get("$bytes"), str):
        import base64
        return base64.b64decode(obj["$bytes"])
    return obj


def encode(message):
    return json.dumps(message, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# JSON with attachments (docs/protocol.md 4.1), once $/hello agreed on the "binary" capability:
#   0x00 | J (u32 big-endian) | J bytes of JSON | attachment area
# where every bytes value is {"$bin": [offset, length]} into the attachment area.
BINARY_CAPABILITY = "binary"


def encode_attached(message):
    """The message as a list of parts whose concatenation is its body; bytes stay bytes."""
    parts = []
    offset = [0]

    def default(value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            size = memoryview(value).nbytes
            parts.append(value)
            ref = {"$bin": [offset[0], size]}
            offset[0] += size
            return ref
        raise TypeError("cannot encode %r" % type(value).__name__)

    text = json.dumps(message, default=default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if not parts:
        return [text]
    return [b"\x00" + struct.pack(">I", len(text)) + text] + parts


def _decode_attached(data):
    if len(data) < 5:
        raise ValueError("a message with attachments needs a 5-byte head")
    (size,) = struct.unpack(">I", data[1:5])
    if 5 + size > len(data):
        raise ValueError("JSON text runs past the end of the message")
    area = memoryview(data)[5 + size:]

    def hook(obj):
        ref = obj.get("$bin")
        if ref is None or len(obj) != 1:
            return _hook(obj)
        if not (isinstance(ref, list) and len(ref) == 2 and all(type(n) is int and n >= 0 for n in ref)) or ref[0] + ref[1] > len(area):
            raise ValueError("bad attachment reference %r" % (ref,))
        return bytes(area[ref[0]:ref[0] + ref[1]])

    return json.loads(bytes(data[5:5 + size]).decode("utf-8"), object_hook=hook)


def decode(data):
    if data[:1] == b"\x00":
        return _decode_attached(data)
    return json.loads(data.decode("utf-8"), object_hook=_hook)


# ---- framing --------------------------------------------------------------------------------

def _read_exactly(reader, n):
    chunks = []
    while n > 0:
        chunk = reader.read(n)
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(reader, framing, max_bytes):
    """Returns one frame body; raises EOFError at a clean end, FrameError on bad input."""
    if framing == "length":
        header = reader.read(4)
        if not header:
            raise EOFError()
        if len(header) < 4:
            header += _read_exactly(reader, 4 - len(header))
        (size,) = struct.unpack(">I", header)
        if size > max_bytes:
            raise FrameError("FRAME_TOO_LARGE: %d bytes" % size)
        return _read_exactly(reader, size)
    if framing == "content-length":
        size = None
        while True:
            line = reader.readline(8192)
            if not line:
                raise EOFError()
            line = line.rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                size = int(value.strip())
        if size is None:
            raise FrameError("FRAME_INVALID: no Content-Length")
        if size > max_bytes:
            raise FrameError("FRAME_TOO_LARGE: %d bytes" % size)
        return _read_exactly(reader, size)
    if framing == "ndjson":
        while True:
            line = reader.readline(max_bytes + 2)
            if not line:
                raise EOFError()
            line = line.rstrip(b"\r\n")
            if line:
                return line
    raise FrameError("FRAME_INVALID: unknown framing %r" % framing)


def frame(framing, body):
    """One frame as one bytes value (one write); `body` is bytes or a list of parts (encode_attached)."""
    parts = body if isinstance(body, list) else [body]
    size = sum(memoryview(p).nbytes for p in parts)
    if framing == "length":
        return b"".join([struct.pack(">I", size)] + parts)
    if framing == "content-length":
        return b"".join([b"Content-Length: %d\r\n\r\n" % size] + parts)
    return b"".join(parts + [b"\n"])


# ---- transports -----------------------------------------------------------------------------

def _need(name):
    value = os.environ.get(name)
    if not value:
        sys.exit("polyplug: %s is not set" % name)
    return value


def connect():
    """Opens the channel named by POLYPLUG_TRANSPORT. Returns (reader, write(bytes))."""
    transport = os.environ.get("POLYPLUG_TRANSPORT", "stdio")
    if transport == "stdio":
        # The channel keeps the real stdout; fd 1 and print() then go to stderr, so a stray
        # print cannot corrupt the channel (docs/protocol.md, "stdio").
        out = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        reader = os.fdopen(os.dup(0), "rb", buffering=65536)
        return reader, out.write
    if transport == "fifo":
        out = open(_need("POLYPLUG_FIFO_OUT"), "wb", buffering=0)   # OUT first, then IN
        reader = open(_need("POLYPLUG_FIFO_IN"), "rb", buffering=65536)
        return reader, out.write
    import socket
    if transport == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(_need("POLYPLUG_SOCKET"))
    elif transport == "tcp":
        host, _, port = _need("POLYPLUG_ADDRESS").rpartition(":")
        sock = socket.create_connection((host.strip("[]"), int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    elif transport == "shm":
        from polyplug_shm import connect_shm   # shared-memory rings (docs/shm.md); needs framing "length"
        return connect_shm(_need)
    else:
        sys.exit("polyplug: transport %r is not supported by this kit" % transport)
    return sock.makefile("rb", buffering=65536), sock.sendall


# ---- the plugin -----------------------------------------------------------------------------

_current = threading.local()   # the Session whose request this thread is running


class Workers:
    """Runs each job on an idle thread, or on a new one when none is idle: as concurrent as a
    thread per request (a sleeping method never holds up another), without paying a thread
    start for every call. At most `keep` threads wait idle; the rest end after their job."""

    def __init__(self, keep=16):
        self.keep = keep
        self._lock = threading.Lock()
        self._idle = 0
        self._jobs = SimpleQueue()

    def run(self, fn, *args):
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                self._jobs.put((fn, args))
                return
        threading.Thread(target=self._work, args=(fn, args), daemon=True).start()

    def _work(self, fn, args):
        while True:
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - a job's failure must not end the worker silently
                sys.stderr.write("polyplug: worker job failed: %r\n" % (e,))
            with self._lock:
                if self._idle >= self.keep:
                    return
                self._idle += 1
            fn, args = self._jobs.get()


_workers = Workers()
_takes_ctx = {}   # method -> whether it has a parameter named ctx (inspect.signature is slow per call)
CO_VARARGS = 0x04   # a code object's flags for *args and **kwargs (inspect.CO_VARARGS, CO_VARKEYWORDS)
CO_VARKEYWORDS = 0x08


def _parameter_names(fn):
    """The names inspect.signature(fn).parameters lists, read from a plain function's code object
    (inspect.signature costs ~1 ms in Pyodide, on each plugin's first call of each method); None
    for anything else (wrapped, given a __signature__, a partial, a callable object)."""
    if type(fn) is not types.FunctionType or hasattr(fn, "__wrapped__") or hasattr(fn, "__signature__"):
        return None
    code = fn.__code__
    # co_varnames starts with the parameters: positional, keyword-only, then *args and **kwargs.
    count = (code.co_argcount + code.co_kwonlyargcount
             + bool(code.co_flags & CO_VARARGS) + bool(code.co_flags & CO_VARKEYWORDS))
    return code.co_varnames[:count]


def _wants_ctx(fn):
    wants = _takes_ctx.get(fn)
    if wants is None:
        names = _parameter_names(fn)
        if names is not None:
            wants = _takes_ctx[fn] = "ctx" in names
            return wants
        import inspect
        try:
            wants = _takes_ctx[fn] = "ctx" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            wants = _takes_ctx[fn] = False
    return wants


def call_method(plugin, method, params, ctx):
    """Runs one of the plugin's methods: params positional (a list), ctx to a parameter named ctx.
    The in-process placements call methods through here (polyplug_pyodide.py); a Session does the
    same, plus streams."""
    fn = plugin.methods.get(method)
    if fn is None:
        raise PolyplugError("METHOD_NOT_FOUND", "no method named %r" % method)
    args = params if isinstance(params, list) else ([] if params is None else [params])
    if _wants_ctx(fn):
        return fn(*args, ctx=ctx)
    return fn(*args)


def error_fields(e):
    """(code, message, data) a method's failure is answered with, as Session._invoke answers it."""
    if isinstance(e, PolyplugError):
        return e.code, e.message, e.data
    if isinstance(e, TypeError):
        return "INVALID_PARAMS", str(e), None
    return "INTERNAL_ERROR", "%s: %s" % (type(e).__name__, e), None


class Context:
    """What a method can use: its cancellation event, progress, logging and host calls."""

    def __init__(self, session, request_id, method):
        self.session = session
        self.plugin = session.plugin
        self.id = request_id
        self.method = method
        self.cancelled = threading.Event()
        self.traceparent = None   # the caller's W3C trace context, carried on by call()

    def progress(self, value):
        self.session.notify("$/progress", {"id": self.id, "value": value})

    def call(self, method, args=None):
        return self.session.call(method, args or [], self.traceparent)

    def log(self, level, message):
        self.session.log(level, message)


def _usable_id(value):
    """A request id is a string or a number (JSON true is not, though Python's bool is an int)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


class Session:
    """One JSON-RPC conversation with the host: a byte stream, or one HTTP/WebSocket session.

    `send(message)` delivers one message (a dict) to the host or raises; each request runs on
    its own thread. Request ids are the session's own, so sessions never see each other's calls.
    """

    # A session whose messages may hold any byte (an HTTP/WebSocket session: binary frames,
    # octet-stream bodies) may agree on bytes as attachments; `binary` once its $/hello did.
    binary_safe = False
    binary = False

    def __init__(self, plugin, send):
        self.plugin = plugin
        self._send_message = send
        self._lock = threading.Lock()
        self._inflight = {}
        self._pending = {}
        self._next_id = 1
        self._closed = None
        self.streams = Streams(self.notify, PolyplugError, self._wire_error, _workers.run)

    def _wire_error(self, error):
        if isinstance(error, PolyplugError):
            return self.error_message(None, error.code, error.message, data=error.data)["error"]
        return self.error_message(None, "INTERNAL_ERROR", "%s: %s" % (type(error).__name__, error))["error"]

    # -- sending --
    def send(self, message):
        self._send_message(message)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def log(self, level, message):
        self.notify("$/log", {"level": level, "message": str(message)})

    def call(self, method, args, traceparent=None):
        """Calls the host (e.g. host/echo) and blocks this thread for the answer. Generator
        arguments are streamed; a stream result comes back as an iterator. `traceparent`
        (default: the one of the request this thread serves) keeps the call in the caller's trace."""
        if traceparent is None:
            traceparent = getattr(_current, "traceparent", None)
        args = self.streams.produce_args(list(args))
        with self._lock:
            if self._closed:
                raise PolyplugError("TRANSPORT_UNAVAILABLE", self._closed)
            request_id = "py%d" % self._next_id
            self._next_id += 1
            slot = self._pending[request_id] = [threading.Event(), None]
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": args}
        if traceparent:
            message["traceparent"] = traceparent
        try:
            self.send(message)
        except Exception:
            self._pending.pop(request_id, None)
            raise
        slot[0].wait()
        answer = slot[1]
        if "error" in answer:
            raise error_from_wire(answer["error"])
        result = answer.get("result")
        sid = stream_ref(result)
        return result if sid is None else self.streams.consume(sid)

    def error_message(self, request_id, code, message, method=None, data=None):
        wire = {"code": code, "plugin": self.plugin.id}
        if method:
            wire["method"] = method
        if data is not None:
            wire["data"] = data
        return {"jsonrpc": "2.0", "id": request_id,
                "error": {"code": NUMERIC_CODES.get(code, APPLICATION_ERROR), "message": message, "data": wire}}

    # -- receiving --
    def _invoke(self, message, ctx):
        request_id, method, params = message["id"], message["method"], message.get("params")
        _current.session = self
        _current.traceparent = ctx.traceparent
        exit_after = False
        arg_streams = []
        try:
            if method.startswith("$/"):
                result = self.plugin._reserved(method, params)
                exit_after = method == "$/shutdown"
            else:
                fn = self.plugin.methods.get(method)
                if fn is None:
                    raise PolyplugError("METHOD_NOT_FOUND", "no method named %r" % method)
                args = params if isinstance(params, list) else ([] if params is None else [params])
                arg_streams = self.streams.consume_args(args)
                if _wants_ctx(fn):
                    result = fn(*args, ctx=ctx)
                else:
                    result = fn(*args)
                if is_stream_source(result):
                    # Argument streams live until the result stream ends (docs/protocol.md, 7.1).
                    release, arg_streams = arg_streams, []
                    result = self.streams.produce(result, on_finish=lambda: [s.close() for s in release], on_cancel=ctx.cancelled.set)
            answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
        except PolyplugError as e:
            answer = self.error_message(request_id, e.code, e.message, method, e.data)
        except TypeError as e:
            answer = self.error_message(request_id, "INVALID_PARAMS", str(e), method)
        except Exception as e:  # noqa: BLE001 - every failure is answered, never lost
            answer = self.error_message(request_id, "INTERNAL_ERROR", "%s: %s" % (type(e).__name__, e), method)
        finally:
            self._inflight.pop(request_id, None)
            for stream in arg_streams:
                stream.close()
        try:
            self.send(answer)
        except (TypeError, ValueError) as e:   # a result JSON cannot carry
            self.send(self.error_message(request_id, "INTERNAL_ERROR", "cannot encode the result: %s" % e, method))
        except Exception as e:  # noqa: BLE001 - the session is gone: nobody is waiting for this answer
            sys.stderr.write("polyplug: answer to %r lost: %s\n" % (method, e))
        if exit_after:
            threading.Timer(0.1, lambda: os._exit(0)).start()   # after the answer has left

    def dispatch(self, message, inline=False):
        """Handles one decoded message from the host (a request, notification or response).
        A request runs on a worker thread, or on this one with `inline` (the caller has nothing
        else to read meanwhile: one POSTed request on its own connection)."""
        if not isinstance(message, dict):
            return
        if "method" in message:
            method = message["method"]
            if "id" not in message:
                params = message.get("params")
                if isinstance(method, str) and method.startswith("$/stream/"):
                    self.streams.receive(method, params)
                    return
                if method in CANCEL_METHODS and isinstance(params, dict) and _usable_id(params.get("id")):
                    ctx = self._inflight.get(params["id"])
                    if ctx:
                        ctx.cancelled.set()
                return
            request_id = message["id"]
            if not _usable_id(request_id) or not isinstance(method, str):
                self.send(self.error_message(None, "INVALID_REQUEST", "not a JSON-RPC 2.0 request"))
                return
            if request_id in self._inflight:
                self.send(self.error_message(request_id, "DUPLICATE_REQUEST_ID", "request id %r is in flight" % request_id, method))
                return
            ctx = self._inflight[request_id] = Context(self, request_id, method)
            if isinstance(message.get("traceparent"), str):
                ctx.traceparent = message["traceparent"]
            if inline:
                self._invoke(message, ctx)
            else:
                _workers.run(self._invoke, message, ctx)
        elif _usable_id(message.get("id")):
            slot = self._pending.pop(message["id"], None)
            if slot:
                slot[1] = message
                slot[0].set()

    def close(self, reason):
        """The session is gone: its calls are cancelled, its host calls fail with TRANSPORT_UNAVAILABLE."""
        with self._lock:
            self._closed = reason
            pending, self._pending = self._pending, {}
        for ctx in list(self._inflight.values()):
            ctx.cancelled.set()
        self.streams.close_all(PolyplugError("TRANSPORT_UNAVAILABLE", reason))
        for request_id, slot in pending.items():
            slot[1] = self.error_message(request_id, "TRANSPORT_UNAVAILABLE", reason)
            slot[0].set()


class Plugin:
    def __init__(self, plugin_id=None, manifest=None):
        self.id = plugin_id or os.environ.get("POLYPLUG_PLUGIN_ID", "python-plugin")
        self.framing = os.environ.get("POLYPLUG_FRAMING", "length")
        self.max_bytes = int(os.environ.get("POLYPLUG_MAX_FRAME_BYTES") or DEFAULT_MAX_FRAME_BYTES)
        # Served at GET /manifest by the http transport: a dict, or the path of a polyplug.json.
        self.manifest = manifest
        self.config = {}
        self.methods = {}
        self.on_activate = None
        self.on_deactivate = None
        self.session = None   # the byte stream's session, or the latest WebSocket session
        self._binary_safe = False   # a byte stream with length or content-length framing
        self.binary = False   # $/hello agreed on bytes as attachments
        self._lock = threading.Lock()   # serialises frames on a byte stream

    def method(self, fn=None, name=None):
        """Decorator: exports fn under its own name (or `name`)."""
        def register(f):
            self.methods[name or f.__name__] = f
            return f
        return register(fn) if fn else register

    # The session of the request this thread runs, else the latest one.
    def _session(self):
        session = getattr(_current, "session", None) or self.session
        if session is None:
            raise PolyplugError("TRANSPORT_UNAVAILABLE", "no session with the host")
        return session

    def notify(self, method, params):
        self._session().notify(method, params)

    def log(self, level, message):
        self._session().log(level, message)

    def call(self, method, args):
        """Calls the host (e.g. host/echo) and blocks this thread for the answer."""
        return self._session().call(method, args)

    def _reserved(self, method, params):
        if method == "$/hello":
            versions = (params or {}).get("protocol", [PROTOCOL_VERSION])
            if PROTOCOL_VERSION not in versions:
                raise PolyplugError("PROTOCOL_MISMATCH", "host speaks %r, plugin speaks 1" % versions)
            answer = {"protocol": PROTOCOL_VERSION, "id": self.id, "methods": sorted(self.methods), "encodings": ["json"],
                      "capabilities": ["streams"]}
            # Bytes as attachments: only on a byte stream whose framing carries any byte, or on a
            # session that carries them (http, ws); agreed per session there.
            session = getattr(_current, "session", None)
            per_session = session is not None and session.binary_safe
            if (self._binary_safe or per_session) and BINARY_CAPABILITY in ((params or {}).get("capabilities") or []):
                if per_session:
                    session.binary = True
                else:
                    self.binary = True
                answer["capabilities"].append(BINARY_CAPABILITY)
            if os.environ.get("POLYPLUG_TOKEN"):
                answer["token"] = os.environ["POLYPLUG_TOKEN"]
            return answer
        if method == "$/activate":
            self.config = (params or {}).get("config") or {}
            if self.on_activate:
                self.on_activate(self)
            return {}
        if method == "$/shutdown":
            if self.on_deactivate:
                self.on_deactivate()
            return {}
        if method == "$/ping":
            return {}
        raise PolyplugError("METHOD_NOT_FOUND", "no method named %r" % method, None)

    def _watch_host(self, pid):
        import time
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    def run(self):
        """Opens the transport and serves until the channel ends or the host is gone."""
        if os.environ.get("POLYPLUG_ENCODING", "json") != "json":
            sys.exit("polyplug: this kit speaks only the json encoding")
        host_pid = int(os.environ.get("POLYPLUG_HOST_PID") or 0)
        if host_pid > 0:
            threading.Thread(target=self._watch_host, args=(host_pid,), daemon=True).start()
        if os.environ.get("POLYPLUG_TRANSPORT") in ("http", "ws"):
            from polyplug_http import serve_http   # its own HTTP server and WebSocket (docs/protocol.md, 2.6)
            serve_http(self)
            return
        self._serve_stream()

    def _serve_stream(self):
        reader, write = connect()

        self._binary_safe = self.framing in ("length", "content-length")

        def send(message):
            body = frame(self.framing, encode_attached(message) if self.binary else encode(message))
            with self._lock:
                write(body)

        session = self.session = Session(self, send)
        while True:
            try:
                body = read_frame(reader, self.framing, self.max_bytes)
            except EOFError:
                os._exit(0)   # the host closed the channel: nothing left to serve
            except (FrameError, ValueError) as e:
                sys.stderr.write("polyplug: bad frame from host: %s\n" % e)
                os._exit(2)
            try:
                message = decode(body)
            except ValueError:
                send({"jsonrpc": "2.0", "id": None, "error": {"code": NUMERIC_CODES["PARSE_ERROR"], "message": "not JSON", "data": {"code": "PARSE_ERROR"}}})
                continue
            session.dispatch(message)
