"""Runs kits/python plugins inside the host's process, in Pyodide (CPython on WebAssembly).

polyplug loads this module, never the plugin author: the plugin is the same file that runs as a
sidecar (`plugin = polyplug.Plugin()`, `@plugin.method`, `plugin.run()` under `__main__`). Here
its module is imported under a name of its own (so plugins sharing an interpreter have separate
namespaces), its `polyplug.Plugin` is found, and the host calls its methods through `Loaded`.

What the host lends each plugin (`host`, a JavaScript object) is all the plugin can reach:
  call(method, params_json, call_id) -> answer_json   a host API call (synchronous: in a worker
                                                       it waits on the bridge; inline it fails)
  wait(call_id, ms) -> cancelled                       sleeps until the call is cancelled or ms pass
  cancelled(call_id) -> bool
  log(level, text), notify(method, params_json)
"""
import _imp
import importlib.util
import json
import marshal
import sys

import polyplug


def _text(value):
    """The kit's JSON encoding (bytes as {"$bytes": base64}), as text."""
    return json.dumps(value, default=polyplug._default, separators=(",", ":"), ensure_ascii=False)


def _value(text):
    return json.loads(text, object_hook=polyplug._hook) if "$bytes" in text else json.loads(text)


class Cancelled:
    """`ctx.cancelled` in-process: the surface of threading.Event, backed by the call's signal."""

    def __init__(self, host, call_id):
        self._host = host
        self._id = call_id
        self._set = False

    def is_set(self):
        return self._set or bool(self._host.cancelled(self._id))

    def set(self):
        self._set = True

    def clear(self):
        self._set = False

    def wait(self, timeout=None):
        if self.is_set():
            return True
        ms = -1 if timeout is None else max(0.0, float(timeout) * 1000)
        return bool(self._host.wait(self._id, ms)) or self._set


class Session:
    """What polyplug.Context and Plugin.log need from a session, over the host's bridge."""

    def __init__(self, plugin, host):
        self.plugin = plugin
        self.host = host

    def notify(self, method, params):
        self.host.notify(method, _text(params))

    def log(self, level, message):
        self.host.log(level, str(message))

    def call(self, method, args, call_id=None):
        answer = _value(self.host.call(method, _text(args or []), call_id))
        if "error" in answer:
            error = answer["error"]
            raise polyplug.PolyplugError(error.get("code", "INTERNAL_ERROR"), error.get("message", ""), error.get("data"))
        return answer.get("result")


class Context(polyplug.Context):
    # The kit's Context, but its cancelled event is the call's signal (no threading.Event).
    def __init__(self, session, call_id, method):  # noqa: super-init-not-called - its Event is not wanted
        self.session = session
        self.plugin = session.plugin
        self.id = call_id
        self.method = method
        self.cancelled = Cancelled(session.host, call_id)

    def call(self, method, args=None):
        return self.session.call(method, args or [], self.id)


def _error(code, message, data=None):
    return _text({"error": {"code": code, "message": message, "data": data}})


class Loaded:
    """One plugin in this interpreter."""

    def __init__(self, plugin, session):
        self.plugin = plugin
        self.session = session

    def methods(self):
        return sorted(self.plugin.methods)

    def activate(self, config_json):
        self.plugin._reserved("$/activate", {"config": _value(config_json)})

    def deactivate(self):
        self.plugin._reserved("$/shutdown", None)

    def invoke(self, method, params_json, call_id):
        """Runs a method; answers JSON text {"result": ...} or {"error": {code, message, data}}."""
        ctx = Context(self.session, call_id, method)
        try:
            result = polyplug.call_method(self.plugin, method, _value(params_json), ctx)
        except KeyboardInterrupt:
            # The host's interrupt: the call was cancelled (or ran past its deadline) while it computed.
            return _error("RPC_CANCELLED", "%s was interrupted: the call was cancelled" % method)
        except Exception as e:  # noqa: BLE001 - every failure is answered, never lost
            return _error(*polyplug.error_fields(e))
        try:
            return _text({"result": result})
        except (TypeError, ValueError) as e:
            return _error("INTERNAL_ERROR", "cannot encode the result: %s" % e)


# The compiled code of the plugin files this interpreter has loaded, by their source: a further
# plugin of the same file unmarshals a copy of it, as a valid .pyc would be, instead of compiling
# the source again (≈2.5 ms of a further plugin's start, docs/performance.md round eight). The
# key is the source itself, so a changed file is compiled afresh.
_compiled = {}
_COMPILED_KEPT = 64


def _code(path):
    """The module code of the file at `path`: its own copy, naming `path` in its tracebacks."""
    with open(path, "rb") as f:
        source = f.read()
    data = _compiled.get(source)
    if data is None:
        # As importlib's SourceLoader compiles a source file.
        data = marshal.dumps(compile(source, path, "exec", dont_inherit=True))
        if len(_compiled) >= _COMPILED_KEPT:
            _compiled.clear()
        _compiled[source] = data
    code = marshal.loads(data)
    _imp._fix_co_filename(code, path)
    return code


def load(plugin_id, key, path, host):
    """Imports the plugin's module from `path` as `polyplug_plugin_<key>` and finds its Plugin."""
    name = "polyplug_plugin_" + key
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(_code(path), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    found = [v for v in vars(module).values() if isinstance(v, polyplug.Plugin)]
    if not found:
        raise polyplug.PolyplugError("PLUGIN_UNAVAILABLE", "%s defines no polyplug.Plugin() at module level" % path)
    plugin = found[0]
    plugin.id = plugin_id
    session = plugin.session = Session(plugin, host)
    return Loaded(plugin, session)


# ---- what in-process plugins may reach ------------------------------------------------------

# Pyodide's bridge to JavaScript, and the ways out of the sandbox's process model.
BLOCKED = ("js", "pyodide_js", "pyodide", "_pyodide", "_pyodide_core", "ctypes", "_ctypes",
           "subprocess", "_posixsubprocess", "micropip", "pyodide_http")
PROCESS_CALLS = ("system", "popen", "fork", "forkpty", "execv", "execve", "execl", "execle", "execlp",
                 "execlpe", "execvp", "execvpe", "spawnv", "spawnve", "spawnl", "spawnle", "posix_spawn",
                 "posix_spawnp", "kill", "killpg")


def _blocked(name):
    return any(name == b or name.startswith(b + ".") for b in BLOCKED)


class Refuse:
    """A meta-path finder that refuses the bridge modules, whoever asks."""

    def find_spec(self, name, path=None, target=None):
        if _blocked(name):
            raise ImportError("%s is not available to an in-process polyplug plugin (docs/confinement.md)" % name, name=name)
        return None


def _scrub_attributes(obj, JsProxy):
    """An instance's attributes (inline values and slots, which are no dict gc can see)."""
    names = set()
    try:
        names.update(vars(obj))
    except TypeError:
        pass
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.update([slots] if isinstance(slots, str) else slots)
    for name in names:
        try:
            if isinstance(getattr(obj, name), JsProxy):
                setattr(obj, name, None)
        except Exception:  # noqa: BLE001 - read-only or computed attributes are not containers
            pass


def lockdown(env):
    """Runs once per interpreter, after this module and the kit are loaded and before any plugin:
    takes the bridge modules away and leaves exactly `env` (a dict) in the environment."""
    import gc
    import os
    import posix

    from pyodide.ffi import JsProxy

    # Pyodide's own modules keep JavaScript objects (its API, the loader, the event loop's
    # scheduler) whose prototype chain leads to the host's Function constructor; take them out
    # of every container the plugin could walk to (module globals, lists, closures).
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for key, value in list(obj.items()):
                if isinstance(value, JsProxy):
                    obj[key] = None
        elif isinstance(obj, list):
            for i, value in enumerate(obj):
                if isinstance(value, JsProxy):
                    obj[i] = None
        elif type(obj).__name__ == "function" and obj.__closure__:
            for cell in obj.__closure__:
                try:
                    if isinstance(cell.cell_contents, JsProxy):
                        cell.cell_contents = None
                except ValueError:   # an empty cell
                    pass
        else:
            _scrub_attributes(obj, JsProxy)
    for name in list(sys.modules):
        if _blocked(name):
            del sys.modules[name]
    sys.meta_path.insert(0, Refuse())
    for module in (os, posix):
        for name in PROCESS_CALLS:
            if hasattr(module, name):
                delattr(module, name)
    for name in list(os.environ):
        if name not in env:
            del os.environ[name]
    for name, value in env.items():
        os.environ[name] = value
