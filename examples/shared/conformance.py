"""The conformance interface (docs/conformance.md) in Python, on kits/python/polyplug.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kits", "python"))
import polyplug  # noqa: E402

plugin = polyplug.Plugin()
cancelled = 0
produced = 0


@plugin.method
def echo(value):
    return value


@plugin.method
def add(a, b):
    return a + b


@plugin.method
def fail(code):
    raise polyplug.PolyplugError(code, "failed on request with code %s" % code)


@plugin.method
def sleep(ms, ctx):
    global cancelled
    if ctx.cancelled.wait(ms / 1000):
        cancelled += 1
        raise polyplug.PolyplugError("RPC_CANCELLED", "sleep(%d) cancelled" % ms)
    return ms


@plugin.method
def cancelCount():
    return cancelled


@plugin.method(name="bytes")
def make_bytes(n):
    return bytes(i & 255 for i in range(n))


@plugin.method
def callHost(method, args, ctx):
    return ctx.call(method, args)


@plugin.method
def count(n, fail_at=None):
    """A stream out: 0..n-1; with fail_at, fails with E_STREAM there. Stopped early, it counts as cancelled."""
    global cancelled, produced
    ended = False
    try:
        for i in range(n):
            if i == fail_at:
                ended = True
                raise polyplug.PolyplugError("E_STREAM", "count failed at %d" % i)
            produced += 1
            yield i
        ended = True
    finally:
        if not ended:
            cancelled += 1


@plugin.method(name="produced")
def produced_so_far():
    return produced


@plugin.method(name="sum")
def sum_of(items):
    """A stream in: adds its numbers and the lengths of its byte chunks."""
    return sum(len(x) if isinstance(x, (bytes, bytearray)) else x for x in items)


@plugin.method
def crash():
    os._exit(70)


plugin.on_activate = lambda p: p.log("debug", "activated %s" % p.id)

if __name__ == "__main__":
    plugin.run()
