"""The `http` and `ws` transports of the Python kit (docs/protocol.md, 2.6), standard library only.

The plugin runs its own HTTP/1.1 server (keep-alive) on POLYPLUG_HTTP_HOST, port 0, and
announces it on stdout as `POLYPLUG_LISTEN http://HOST:PORT`:

    POST /rpc            one JSON-RPC message or a batch; the answers come back in the response
    GET  /health         {"status":"ok","id":...,"sessions":N}
    GET  /manifest       the plugin's manifest (Plugin.manifest, else POLYPLUG_MANIFEST, else polyplug.json beside the script)
    GET  /ws?session=S   WebSocket upgrade (polyplug_ws.py): one JSON-RPC message per frame

Every request and the upgrade need `Authorization: Bearer <POLYPLUG_TOKEN>` (else 401, logged
on stderr); a body over POLYPLUG_MAX_BODY_BYTES gets 413 before it is read. One WebSocket is one
Session of polyplug.py (the same dispatcher as the byte streams); a POST with the header
`x-polyplug-session: S` is delivered to session S, so its answer goes back in the HTTP response
while a `$/cancel` over the socket reaches it and its host calls go over the socket. POSTs
without the header share one socket-less session: calls work, host calls fail with
TRANSPORT_UNAVAILABLE. A dropped socket cancels its session's calls, fails its host calls and
answers its waiting POSTs with TRANSPORT_UNAVAILABLE; the server goes on serving.

Messages are JSON text until a session's $/hello agrees on "binary" (docs/protocol.md 4.1); then
a message holding bytes is JSON with attachments: a binary frame, or an application/octet-stream
body. Both forms are read from the start; one that cannot be read is answered with PARSE_ERROR.
"""
import hmac
import json
import os
import socket
import socketserver
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from polyplug import DEFAULT_MAX_FRAME_BYTES, NUMERIC_CODES, PolyplugError, Session, _usable_id, decode, encode, encode_attached
from polyplug_ws import Closed, WebSocket, accept_key, valid_key

SESSION_HEADER = "x-polyplug-session"
LISTEN_PREFIX = "POLYPLUG_LISTEN "
ATTACHMENTS_MEDIA_TYPE = "application/octet-stream"
# A refused body up to this size is read and thrown away so the connection stays usable (and the
# client sees the status instead of a reset); a larger one closes the connection.
DRAIN_LIMIT = 64 * 1024 * 1024


class _Waiter:
    """The answers one POST is waiting for."""

    def __init__(self, batch):
        self.batch = batch
        self.ids = set()
        self.results = []
        self.done = threading.Event()

    def put(self, message):
        self.results.append(message)
        self.ids.discard(message.get("id"))
        if not self.ids:
            self.done.set()


class HttpSession(Session):
    """A Session whose answers to POSTed requests go into their HTTP responses; everything else
    (notifications, the plugin's host calls, answers to calls that came over the socket) goes
    over its WebSocket, when it has one."""

    binary_safe = True   # binary frames and octet-stream bodies carry any byte

    def __init__(self, plugin, ws=None):
        super().__init__(plugin, self._route)
        self.ws = ws
        self._waiting = {}
        self._wlock = threading.Lock()

    def _route(self, message):
        if "method" not in message and message.get("id") is not None:
            with self._wlock:
                waiter = self._waiting.pop(message["id"], None)
            if waiter:
                waiter.put(message)
                return
        if self.ws is None:
            if "id" in message:
                raise PolyplugError("TRANSPORT_UNAVAILABLE", "this session has no WebSocket: the plugin cannot call the host")
            if message.get("method") == "$/log":   # a notification without a socket: the log still reaches the host via stderr
                sys.stderr.write("%s\n" % (message.get("params") or {}).get("message", ""))
            return
        binary, body = self.encode(message)
        try:
            if binary:
                self.ws.send_binary(body)
            else:
                self.ws.send_text(body)
        except Closed as e:
            raise PolyplugError("TRANSPORT_UNAVAILABLE", str(e)) from None

    def encode(self, message, attach=True):
        """(binary, body): JSON text, or once agreed (and `attach`) and when it holds bytes, the parts
        of JSON with attachments."""
        if not (self.binary and attach):
            return False, encode(message)
        parts = encode_attached(message)
        return (True, parts) if parts[0][:1] == b"\x00" else (False, parts[0])

    def post(self, value):
        """Delivers a POSTed message or batch; returns the JSON body to answer with, or None (204)."""
        batch = isinstance(value, list)
        items = value if batch else [value]
        waiter = _Waiter(batch)
        deliver = []
        with self._wlock:
            for item in items:
                request_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(item, dict) and "method" in item and request_id is not None and not (_usable_id(request_id) and isinstance(item["method"], str)):
                    waiter.results.append(self.error_message(None, "INVALID_REQUEST", "not a JSON-RPC 2.0 request"))
                    continue
                if isinstance(item, dict) and "method" in item and request_id is not None:
                    if request_id in self._waiting or request_id in waiter.ids or request_id in self._inflight:
                        waiter.results.append(self.error_message(request_id, "DUPLICATE_REQUEST_ID", "request id %r is in flight" % (request_id,), item["method"]))
                        continue
                    waiter.ids.add(request_id)
                    self._waiting[request_id] = waiter
                deliver.append(item)
        if not waiter.ids:
            waiter.done.set()
        # A single request runs on this connection's own thread: the connection has nothing else
        # to do meanwhile, and a hand-off to a worker and back costs more than the call itself.
        for item in deliver:
            try:
                self.dispatch(item, inline=len(deliver) == 1)
            except PolyplugError:
                pass   # an answer meant for the socket, which is gone; the POST still gets its own
        waiter.done.wait()
        if not waiter.results:
            return None
        return waiter.results if batch else waiter.results[0]

    def close(self, reason):
        super().close(reason)
        with self._wlock:
            waiting, self._waiting = self._waiting, {}
        for request_id, waiter in waiting.items():
            waiter.put(self.error_message(request_id, "TRANSPORT_UNAVAILABLE", reason))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024   # a burst of keep-alive connections (one per concurrent POST) must not overflow the backlog

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def _manifest(plugin):
    """Plugin.manifest if set, else what the host passed (POLYPLUG_MANIFEST), else polyplug.json beside the script."""
    if isinstance(plugin.manifest, dict):
        return plugin.manifest
    if not plugin.manifest and os.environ.get("POLYPLUG_MANIFEST"):
        try:
            return json.loads(os.environ["POLYPLUG_MANIFEST"])
        except ValueError:
            pass
    path = plugin.manifest or os.path.join(os.path.dirname(os.path.abspath(sys.argv[0] or ".")), "polyplug.json")
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def _accepts_attachments(accept):
    return any(t.split(";")[0].strip().lower() == ATTACHMENTS_MEDIA_TYPE for t in accept.split(","))


def _parse_error(message):
    return {"jsonrpc": "2.0", "id": None, "error": {"code": NUMERIC_CODES["PARSE_ERROR"], "message": message, "data": {"code": "PARSE_ERROR"}}}


def make_server(plugin, token, host="127.0.0.1", port=0, max_bytes=DEFAULT_MAX_FRAME_BYTES):
    """Binds the plugin's HTTP server (not yet serving); returns (server, url)."""
    sessions = {}
    lock = threading.Lock()
    stateless = []
    expected = ("Bearer " + token).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # keep-alive
        disable_nagle_algorithm = True
        server_version = "polyplug-python"
        sys_version = ""

        def log_message(self, format, *args):   # noqa: A002 - the base class's name
            pass   # one line per request would flood the host's log; refusals are logged below

        def _reply(self, status, body=None, session=None):
            # An answer with attachments only to a POST that accepts them: clients without WebSocket
            # share one session, and one of them agreeing must not change what the others read.
            attach = session is not None and _accepts_attachments(self.headers.get("Accept", ""))
            binary, data = (False, b"") if status == 204 else session.encode(body, attach) if session else (False, encode(body))
            parts = data if binary else [data]
            head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
            if status != 204:
                size = sum(memoryview(p).nbytes for p in parts)
                head += ["Content-Type: %s" % (ATTACHMENTS_MEDIA_TYPE if binary else "application/json"), "Content-Length: %d" % size]
            if self.close_connection:
                head.append("Connection: close")
            head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
            if len(parts) == 1 and len(parts[0]) < 65536:
                # One write for head and body: with TCP_NODELAY, one segment for a small answer.
                self.wfile.write(head + parts[0])
                return
            self.wfile.write(head)
            for part in parts:   # a large body or attachments: written as they are, no join
                self.wfile.write(part)

        def _refuse(self, status, body):
            sys.stderr.write("polyplug: refused %s %s from %s: HTTP %d\n" % (self.command, self.path, self.client_address[0], status))
            self._discard_body()
            self._reply(status, body)

        def _discard_body(self):
            size = self._declared_length()
            if size is None or size > DRAIN_LIMIT:
                self.close_connection = True
                return
            while size > 0:
                chunk = self.rfile.read(min(size, 1 << 16))
                if not chunk:
                    self.close_connection = True
                    return
                size -= len(chunk)

        def _declared_length(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return None
            try:
                return max(0, int(self.headers.get("Content-Length", "0")))
            except ValueError:
                return None

        def _authorized(self):
            given = self.headers.get("Authorization", "").encode("utf-8", "replace")
            return hmac.compare_digest(given, expected)

        def do_GET(self):  # noqa: N802 - the base class's name
            if not self._authorized():
                return self._refuse(401, {"error": "missing or wrong token"})
            url = urlsplit(self.path)
            if url.path == "/health":
                return self._reply(200, {"status": "ok", "id": plugin.id, "sessions": len(sessions)})
            if url.path == "/manifest":
                return self._reply(200, _manifest(plugin))
            if url.path == "/ws":
                return self._websocket((parse_qs(url.query).get("session") or [None])[0])
            return self._reply(404, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            if not self._authorized():
                return self._refuse(401, {"error": "missing or wrong token"})
            if urlsplit(self.path).path != "/rpc":
                self._discard_body()
                return self._reply(404, {"error": "not found"})
            body = self._read_body()
            if body is None:
                return self._refuse(413, {"error": "body larger than %d bytes" % max_bytes})
            try:
                value = decode(body)
            except (ValueError, UnicodeDecodeError) as e:
                return self._reply(200, _parse_error("body is not valid JSON or JSON with attachments: %s" % e))
            sid = self.headers.get(SESSION_HEADER)
            if sid is not None:
                session = sessions.get(sid)
                if session is None:
                    return self._reply(404, {"error": "no session %s" % sid})
            else:
                with lock:
                    if not stateless:
                        stateless.append(HttpSession(plugin))
                session = stateless[0]
            answer = session.post(value)
            self._reply(200 if answer is not None else 204, answer, session)

        def _read_body(self):
            """The request body, or None when it is over the limit (nothing of it read yet, or it is
            a chunked body that grew past the limit: then the connection closes)."""
            size = self._declared_length()
            if size is not None:
                return None if size > max_bytes else self.rfile.read(size)
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    return None
                if n == 0:
                    while self.rfile.readline(8192).strip():   # trailers
                        pass
                    return b"".join(chunks)
                total += n
                if total > max_bytes:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(n))
                self.rfile.readline(8)   # the CRLF after each chunk

        def _websocket(self, sid):
            key = self.headers.get("Sec-WebSocket-Key", "")
            if "websocket" not in self.headers.get("Upgrade", "").lower() or not valid_key(key):
                self.close_connection = True
                return self._reply(400, {"error": "not a WebSocket upgrade"})
            if self.headers.get("Sec-WebSocket-Version", "").strip() != "13":
                self.close_connection = True
                self.send_response(426)
                self.send_header("Sec-WebSocket-Version", "13")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            ws = WebSocket(self.rfile, self.connection, max_bytes)
            session = HttpSession(plugin, ws)
            sid = sid or "s" + uuid.uuid4().hex
            with lock:   # before the 101: the client may POST into the session as soon as it has it
                sessions[sid] = session
            plugin.session = session
            self.close_connection = True   # after the socket ends, so does this connection
            reason = "the WebSocket session ended"
            try:
                # No Sec-WebSocket-Extensions in the answer: compression stays off whatever the client offers.
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept_key(key))
                self.end_headers()
                self.wfile.flush()
                while True:
                    received = ws.receive_message()
                    if received is None:
                        break
                    try:
                        message = decode(received[1])
                    except (ValueError, UnicodeDecodeError) as e:
                        # answered with PARSE_ERROR (id null), as the Node side does; the session goes on
                        try:
                            session.send(_parse_error("frame is not valid JSON or JSON with attachments: %s" % e))
                        except PolyplugError:
                            pass   # the socket is going
                        continue
                    for item in message if isinstance(message, list) else [message]:
                        try:
                            session.dispatch(item)
                        except PolyplugError:
                            pass   # an error answer that could not be sent: the socket is going
            except (Closed, OSError) as e:
                reason = str(e)
            finally:
                with lock:
                    if sessions.get(sid) is session:
                        del sessions[sid]
                    if plugin.session is session:
                        plugin.session = next(iter(sessions.values()), None)
                session.close(reason)
                ws.close()

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = type("_Server", (_Server,), {"address_family": family})((host, port), Handler)
    bound = server.server_address
    url = "http://%s:%d" % ("[%s]" % bound[0] if family == socket.AF_INET6 else bound[0], bound[1])
    return server, url


def serve_http(plugin):
    """Serves `plugin` over http/ws as the environment says; announces the URL; never returns."""
    token = os.environ.get("POLYPLUG_TOKEN", "")
    if not token:
        sys.exit("polyplug: the http transport needs POLYPLUG_TOKEN")
    max_bytes = int(os.environ.get("POLYPLUG_MAX_BODY_BYTES") or DEFAULT_MAX_FRAME_BYTES)
    server, url = make_server(plugin, token, os.environ.get("POLYPLUG_HTTP_HOST") or "127.0.0.1", 0, max_bytes)
    sys.stdout.write("%s%s\n" % (LISTEN_PREFIX, url))
    sys.stdout.flush()
    server.serve_forever()
