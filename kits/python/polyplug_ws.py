"""A minimal RFC 6455 WebSocket endpoint (server side), standard library only.

Enough for the polyplug `http`/`ws` transport (docs/protocol.md, 2.6): the opening handshake,
text and binary frames (a binary frame carries JSON with attachments, docs/protocol.md 4.1),
masked client frames, fragmented messages, ping/pong, the close handshake and a message size limit. No extensions are
ever accepted (so no permessage-deflate): a frame with an RSV bit set is a protocol error.

    ws = WebSocket(rfile, sock, max_bytes)    # after answering the upgrade with accept_key(key)
    while (text := ws.receive()) is not None:
        ws.send_text(text)
"""
import base64
import hashlib
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# Close codes (RFC 6455, 7.4.1).
NORMAL, PROTOCOL_ERROR, INVALID_DATA, TOO_BIG = 1000, 1002, 1007, 1009


def accept_key(key):
    """The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode("ascii")).digest()).decode("ascii")


def valid_key(key):
    """A client key is 16 random bytes in base64 (RFC 6455, 4.1)."""
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except ValueError:
        return False


class Closed(Exception):
    """The connection ended: `code` is the close code (1006 when it just dropped)."""

    def __init__(self, code, reason=""):
        super().__init__("WebSocket closed (%d%s)" % (code, " " + reason if reason else ""))
        self.code = code
        self.reason = reason


def _unmask(payload, mask):
    # XOR with the repeating 4-byte key, as one big integer operation (fast for large frames).
    n = len(payload)
    if n == 0:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class WebSocket:
    """One server-side connection. receive() on one thread; send_text() from any thread."""

    def __init__(self, rfile, sock, max_bytes):
        self.rfile = rfile
        self.sock = sock
        self.max_bytes = max_bytes
        self.closed = False
        self._write_lock = threading.Lock()

    # -- reading --
    def _read(self, n):
        chunks = []
        while n > 0:
            chunk = self.rfile.read(n)
            if not chunk:
                raise Closed(1006, "connection dropped")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _frame(self):
        b0, b1 = self._read(2)
        fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
        masked, size = b1 & 0x80, b1 & 0x7F
        if rsv:
            self._fail(PROTOCOL_ERROR, "no extension was negotiated")
        if not masked:
            self._fail(PROTOCOL_ERROR, "client frames must be masked")
        if size == 126:
            (size,) = struct.unpack(">H", self._read(2))
        elif size == 127:
            (size,) = struct.unpack(">Q", self._read(8))
        if opcode >= 0x8 and (size > 125 or not fin):
            self._fail(PROTOCOL_ERROR, "bad control frame")
        if size > self.max_bytes:
            self._fail(TOO_BIG, "frame over %d bytes" % self.max_bytes)   # checked before reading it
        mask = self._read(4)
        return bool(fin), opcode, _unmask(self._read(size), mask)

    def receive(self):
        """The next message as text; None after a clean close. Raises Closed when it drops or breaks."""
        message = self.receive_message()
        if message is None:
            return None
        try:
            return message[1].decode("utf-8")
        except UnicodeDecodeError:
            self._fail(INVALID_DATA, "not UTF-8")

    def receive_message(self):
        """The next message as (binary, bytes): a text frame's UTF-8 (checked) or a binary frame's
        bytes as they are; None after a clean close. Raises Closed when it drops or breaks."""
        parts, size, first = [], 0, None
        while True:
            try:
                fin, opcode, payload = self._frame()
            except Closed:
                self.closed = True
                raise
            except OSError:
                self.closed = True
                raise Closed(1006, "connection dropped") from None
            if opcode == OP_PING:
                self._send(OP_PONG, payload)
            elif opcode == OP_PONG:
                pass
            elif opcode == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else NORMAL
                self.close(NORMAL if code == NORMAL else code)
                if code == NORMAL or len(payload) < 2:
                    return None
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                if (opcode == OP_CONT) != (first is not None):
                    self._fail(PROTOCOL_ERROR, "unexpected continuation" if first is None else "expected a continuation")
                first = first if first is not None else opcode
                size += len(payload)
                if size > self.max_bytes:
                    self._fail(TOO_BIG, "message over %d bytes" % self.max_bytes)
                parts.append(payload)
                if fin:
                    payload = b"".join(parts)
                    if first == OP_TEXT:
                        try:
                            payload.decode("utf-8")
                        except UnicodeDecodeError:
                            self._fail(INVALID_DATA, "not UTF-8")
                    return first == OP_BINARY, payload
            else:
                self._fail(PROTOCOL_ERROR, "unknown opcode %d" % opcode)

    def _fail(self, code, reason):
        self.close(code, reason)
        raise Closed(code, reason)

    # -- writing --
    def _send(self, opcode, payload):
        """One unfragmented frame; `payload` is bytes, or a list of parts sent as their concatenation."""
        parts = payload if isinstance(payload, list) else [payload]
        n = sum(memoryview(p).nbytes for p in parts)
        if n < 126:
            header = struct.pack(">BB", 0x80 | opcode, n)
        elif n < 65536:
            header = struct.pack(">BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack(">BBQ", 0x80 | opcode, 127, n)
        with self._write_lock:
            if n < 65536:
                self.sock.sendall(header + b"".join(parts))   # one segment for a small frame (TCP_NODELAY)
            else:
                self.sock.sendall(header)   # no copy of a large payload
                for part in parts:
                    self.sock.sendall(part)

    def send_text(self, text):
        """Sends one text message (str, or UTF-8 bytes), unfragmented and unmasked (a server's
        frames are never masked). Raises Closed when the socket is gone."""
        if self.closed:
            raise Closed(1006, "WebSocket is not open")
        try:
            self._send(OP_TEXT, text.encode("utf-8") if isinstance(text, str) else text)
        except OSError:
            self.closed = True
            raise Closed(1006, "connection dropped") from None

    def send_binary(self, parts):
        """Sends one binary message: bytes, or a list of parts sent as their concatenation without
        joining them. Raises Closed when the socket is gone."""
        if self.closed:
            raise Closed(1006, "WebSocket is not open")
        try:
            self._send(OP_BINARY, parts)
        except OSError:
            self.closed = True
            raise Closed(1006, "connection dropped") from None

    def close(self, code=NORMAL, reason=""):
        """Sends a close frame (once) and stops sending; the reader still sees the peer's close."""
        if self.closed:
            return
        self.closed = True
        try:
            self._send(OP_CLOSE, struct.pack(">H", code) + reason.encode("utf-8")[:123])
        except OSError:
            pass
