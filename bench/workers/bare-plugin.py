"""The bare baseline for a Python plugin in a process of its own: the same plugin file, imported
by hand (not as __main__, so its polyplug serve loop does not start) and driven by a hand-written
echo over stdin/stdout lines, one JSON value per line, with no RPC around it."""
import importlib.util
import json
import sys

spec = importlib.util.spec_from_file_location("plugin", sys.argv[1])
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
for line in sys.stdin:
    sys.stdout.write(json.dumps(plugin.echo(json.loads(line))) + "\n")
    sys.stdout.flush()
