"""Streams for the Python kit (docs/protocol.md, 7.1): a method may return a generator, an
iterator or an async generator (a stream out), and receives a stream argument as an iterator
(a stream in). A stream travels as {"$stream": ID}; items as $/stream/item notifications, sent
only while the consumer has granted credit ($/stream/credit); $/stream/end closes it (with an
error object when the producer failed); $/stream/cancel stops the producer.

    @plugin.method
    def count(n):                  # stream out: each yield is one item
        for i in range(n):
            yield i

    @plugin.method
    def total(items):              # stream in: iterate it; it ends when the producer ends
        return sum(items)

Each producer runs on a worker thread of its own and waits (without spinning) while it has no
credit, so a slow consumer bounds what the producer has made to the window it granted.
"""
import collections.abc
import threading
import types

STREAM_TAG = "$stream"
DEFAULT_WINDOW = 16


def stream_ref(value):
    """The id of a {"$stream": ID} marker, else None."""
    if isinstance(value, dict) and len(value) == 1:
        sid = value.get(STREAM_TAG)
        if isinstance(sid, int) and not isinstance(sid, bool):
            return sid
    return None


def is_stream_source(value):
    """Generators, iterators and async iterators are streams; lists, dicts, strings and bytes are values."""
    if isinstance(value, (str, bytes, bytearray, memoryview, dict, list, tuple)):
        return False
    return isinstance(value, (collections.abc.Iterator, collections.abc.AsyncIterator))


def _sync_items(source):
    """Iterates any stream source on this thread; an async one gets an event loop of its own."""
    if not isinstance(source, collections.abc.AsyncIterator):
        return source, getattr(source, "close", None)
    import asyncio   # only for an async source: importing it costs a plugin's start more than the kit itself
    loop = asyncio.new_event_loop()

    def items():
        try:
            while True:
                try:
                    yield loop.run_until_complete(source.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            if isinstance(source, types.AsyncGeneratorType):
                loop.run_until_complete(source.aclose())
            loop.close()

    gen = items()
    return gen, gen.close


class _Outgoing:
    def __init__(self):
        self.credit = 0
        self.cancelled = False
        self.cond = threading.Condition()


class Incoming:
    """A stream the other side produces, as an iterator: `for item in stream`. It grants the
    window when iteration starts and more as items are taken; `close()` (or leaving a `for`
    loop early and dropping it) cancels the producer."""

    def __init__(self, streams, sid, window=DEFAULT_WINDOW):
        self._streams = streams
        self.id = sid
        self._window = window
        self._cond = threading.Condition()
        self._items = collections.deque()
        self._outstanding = 0
        self._taken = 0
        self._started = False
        self._finished = False
        self._error = None

    def __iter__(self):
        return self

    def __next__(self):
        with self._cond:
            if not self._started:
                self._started = True
                if not self._finished:
                    self._grant(self._window)
            while not self._items and not self._finished:
                self._cond.wait()
            if self._items:
                value = self._items.popleft()
                self._taken += 1
                if not self._finished and self._taken * 2 >= self._window:
                    self._grant(self._taken)
                    self._taken = 0
                return value
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise StopIteration

    def close(self):
        """Stops consuming: the producer is told to stop."""
        with self._cond:
            if self._finished:
                return
            self._finish(None)
            self._items.clear()
        self._streams.send_quietly("$/stream/cancel", {"stream": self.id})

    def _grant(self, n):
        self._outstanding += n
        self._streams.send_quietly("$/stream/credit", {"stream": self.id, "n": n})

    def push(self, value):
        with self._cond:
            if self._finished:
                return
            if self._outstanding <= 0:
                overrun = True
            else:
                overrun = False
                self._outstanding -= 1
                self._items.append(value)
                self._cond.notify_all()
        if overrun:
            self._streams.send_quietly("$/stream/cancel", {"stream": self.id})
            self.end(self._streams.error("STREAM_OVERRUN", "the producer sent more items than it was granted"))

    def end(self, error):
        with self._cond:
            if not self._finished:
                self._finish(error)

    def _finish(self, error):
        self._finished = True
        self._error = error
        self._streams.forget(self)
        self._cond.notify_all()


class Streams:
    """Every stream of one Session. `send(method, params)` sends a notification; `error(code,
    message)` makes a PolyplugError; `wire_error(exc)` turns an exception into a JSON-RPC error
    object; `run(fn)` runs fn on a worker thread."""

    def __init__(self, send, error, wire_error, run):
        self._send = send
        self.error = error
        self._wire_error = wire_error
        self._run = run
        self._lock = threading.Lock()
        self._producing = {}
        self._consuming = {}
        self._next_id = 1
        self._closed = None

    def send_quietly(self, method, params):
        try:
            self._send(method, params)
        except Exception:  # noqa: BLE001 - the session is gone; close_all ends the stream
            pass

    def consume(self, sid, window=DEFAULT_WINDOW):
        stream = Incoming(self, sid, window)
        with self._lock:
            closed = self._closed
            if closed is None:
                self._consuming[sid] = stream
        if closed is not None:
            stream.end(closed)
        return stream

    def forget(self, stream):
        with self._lock:
            if self._consuming.get(stream.id) is stream:
                del self._consuming[stream.id]

    def consume_args(self, args):
        """Replaces {"$stream": ID} arguments with Incoming streams; returns those streams."""
        opened = []
        for i, value in enumerate(args):
            sid = stream_ref(value)
            if sid is not None:
                args[i] = self.consume(sid)
                opened.append(args[i])
        return opened

    def produce(self, source, on_finish=None, on_cancel=None):
        """Starts producing `source` on a worker thread; returns its {"$stream": ID} marker."""
        state = _Outgoing()
        with self._lock:
            sid = self._next_id
            self._next_id += 1
            self._producing[sid] = state
            if self._closed is not None:
                state.cancelled = True
        self._run(self._pump, sid, state, source, on_finish, on_cancel)
        return {STREAM_TAG: sid}

    def produce_args(self, args):
        return [self.produce(a) if is_stream_source(a) else a for a in args]

    def _pump(self, sid, state, source, on_finish, on_cancel):
        items, close = _sync_items(source)
        error = None
        ended = False
        try:
            while True:
                with state.cond:
                    while state.credit == 0 and not state.cancelled:
                        state.cond.wait()
                    if state.cancelled:
                        break
                    state.credit -= 1
                try:
                    value = next(items)
                except StopIteration:
                    ended = True
                    break
                with state.cond:
                    if state.cancelled:
                        break
                self._send("$/stream/item", {"stream": sid, "value": value})
        except Exception as e:  # noqa: BLE001 - a failed producer ends its stream with the error
            error = e
        finally:
            with self._lock:
                self._producing.pop(sid, None)
            if not ended and close is not None:
                try:
                    close()   # runs the generator's finally blocks
                except Exception:  # noqa: BLE001
                    pass
            if state.cancelled and on_cancel is not None:
                on_cancel()
            if on_finish is not None:
                on_finish()
        if state.cancelled:
            return
        if error is not None:
            self.send_quietly("$/stream/end", {"stream": sid, "error": self._wire_error(error)})
        else:
            self.send_quietly("$/stream/end", {"stream": sid})

    def receive(self, method, params):
        """Handles a $/stream/* notification."""
        if not isinstance(params, dict) or not isinstance(params.get("stream"), int):
            return
        sid = params["stream"]
        if method in ("$/stream/item", "$/stream/end"):
            with self._lock:
                stream = self._consuming.get(sid)
            if stream is None:
                return
            if method == "$/stream/item":
                stream.push(params.get("value"))
            else:
                wire = params.get("error")
                stream.end(self._from_wire(wire) if isinstance(wire, dict) else None)
            return
        with self._lock:
            state = self._producing.get(sid)
        if state is None:
            return
        with state.cond:
            if method == "$/stream/credit" and isinstance(params.get("n"), int) and params["n"] > 0:
                state.credit += params["n"]
            elif method == "$/stream/cancel":
                state.cancelled = True
            state.cond.notify_all()

    def _from_wire(self, wire):
        data = wire.get("data") if isinstance(wire.get("data"), dict) else {}
        return self.error(data.get("code", "INTERNAL_ERROR"), wire.get("message", ""), data.get("data"))

    def close_all(self, error):
        """The session ended: consumers end with `error`, producers stop."""
        with self._lock:
            self._closed = error
            consuming, self._consuming = list(self._consuming.values()), {}
            producing = list(self._producing.values())
        for stream in consuming:
            stream.end(error)
        for state in producing:
            with state.cond:
                state.cancelled = True
                state.cond.notify_all()
