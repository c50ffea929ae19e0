"""The conformance interface (docs/conformance.md) in Python, on kits/python/polyplug.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kits", "python"))
import polyplug  # noqa: E402

plugin = polyplug.Plugin()
cancelled = 0


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
def crash():
    os._exit(70)


plugin.on_activate = lambda p: p.log("debug", "activated %s" % p.id)

if __name__ == "__main__":
    plugin.run()
