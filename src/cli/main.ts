/** `polyplug` command line: list, call, session, commands, exec, status, dashboard, validate, check, pack, install, uninstall, keygen, kit. */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { PolyplugError } from '../rpc/errors.js'
import { formatError, UsageError } from './output.js'
import { setVerbosity } from './verbosity.js'
import { kitUsage, runKit } from './kit.js'

// Each command's module loads when it runs: `polyplug call` never loads the dashboard, the
// packager, the checker or the scaffolder (docs/architecture.md, Start-up cost).

const usage = `polyplug — a plugin host for Node.js

Usage:
  polyplug list --plugins DIR [--json]      (exit 1 when a plugin is invalid; the others are still listed)
  polyplug call --plugins DIR ID METHOD [PARAMS_JSON] [--timeout MS]
  polyplug session --plugins DIR ID [--on METHOD]... [--timeout MS]
                                            (one session across many calls: JSON lines on stdin, e.g.
                                             {"id":1,"method":"initialize","params":[{}]}, {"method":"initialized"},
                                             {"wait":"METHOD"}; answers and --on notifications as JSON lines)
  polyplug commands --plugins DIR [--json]
  polyplug exec --plugins DIR COMMAND [ARGS_JSON]
  polyplug status --plugins DIR [--json] [COMMAND]   (host.stats() after start-up, or after running COMMAND)
  polyplug dashboard --plugins DIR [--port N] [--host ADDR] [--token T]
                                            (the running-plugins page and /metrics; loopback by default; runs until Ctrl-C)
  polyplug serve DIR --broker URL [--username U] [--password-env VAR] [--ca FILE] [--replica NAME]
                                            (run the plugin as one replica of its pool; docs/scale-out.md)
  polyplug replicas --plugins DIR ID [--json]   (the live replicas of a pool; exit 1 when none is alive)
  polyplug validate DIR...                  (a plugin folder or a folder of them: each manifest, and that its program can run)
  polyplug check DIR... [--json]            (start each plugin and run the protocol and conformance checks; exit 1 on a failure)
  polyplug dev DIR [--on METHOD]... [--timeout MS]
                                            (run a plugin, or a folder of them: build when stale, reload on change, stream
                                            their logs and stderr, serve session lines or METHOD [PARAMS_JSON] from stdin)
  polyplug types DIR [--out FILE]          (a .d.ts interface of the methods declared in contributes.methods, for proxy<Api>())
  polyplug pack DIR [--out FILE_OR_DIR] [--sign KEY] [--json]     (DIR -> ID-VERSION.polyplug.tgz)
  polyplug install --plugins DIR FILE [--force] [--trust PUB]... [--json]
                                            (into DIR/ID; only upgrades without --force; with --trust, only signed packages)
  polyplug uninstall --plugins DIR ID [--json]
  polyplug keygen DIR [--json]              (an Ed25519 key pair for --sign / --trust)
  polyplug init DIR --lang LANG [--kind K] [--transport T]   (a plugin that passes check at once; asks in a terminal)
  polyplug kit NAME DIR [--force]           (copies a plugin kit into a plugin folder)
  polyplug help | --help | -h
  polyplug --version

Options for every command:
  -v, --verbose   also the host's debug log and every line plugins write to stderr (on stderr)
  -q, --quiet     only results and errors

Exit codes: 0 success; 1 the command failed (an error from a plugin or the host, a failed check,
an invalid plugin, also when list or validate found one); 2 wrong usage (unknown command or option, missing argument, bad JSON).
Errors go to stderr as \`CODE: message (plugin ID, method M)\`; when a plugin process died, its
last stderr lines follow, each as \`  stderr| LINE\`.

PARAMS_JSON and ARGS_JSON are JSON arrays of positional arguments, e.g. '["hi"]'.
--plugins may be given several times (roots in priority order).
list statuses: inactive, active, failed, disabled, unavailable (with the resolution error), invalid.
kits:
${kitUsage()}
`

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}


async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plugins: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      on: { type: 'string', multiple: true },
      out: { type: 'string' },
      sign: { type: 'string' },
      trust: { type: 'string', multiple: true },
      force: { type: 'boolean', default: false },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      broker: { type: 'string' },
      username: { type: 'string' },
      'password-env': { type: 'string' },
      ca: { type: 'string' },
      replica: { type: 'string' },
      lang: { type: 'string' },
      kind: { type: 'string' },
      transport: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
    },
  })
  setVerbosity(values)
  const [command, ...rest] = positionals
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (values.help || !command || command === 'help') {
    process.stdout.write(usage)
    return command || values.help ? 0 : 2
  }
  const plugins = values.plugins ?? []
  switch (command) {
    case 'list':
      return (await import('./list.js')).runList(requirePlugins(plugins), values.json ?? false)
    case 'call':
      return (await import('./call.js')).runCall(requirePlugins(plugins), rest, values.timeout === undefined ? undefined : Number(values.timeout))
    case 'session':
      return (await import('./session.js')).runSession(requirePlugins(plugins), rest, { on: values.on ?? [], ...(values.timeout === undefined ? {} : { timeout: Number(values.timeout) }) })
    case 'commands':
      return (await import('./commands.js')).runCommands(requirePlugins(plugins), values.json ?? false)
    case 'status':
      return (await import('./status.js')).runStatus(requirePlugins(plugins), values.json ?? false, rest[0])
    case 'exec':
      return (await import('./commands.js')).runExec(requirePlugins(plugins), rest)
    case 'dashboard':
      return (await import('./dashboard.js')).runDashboard(requirePlugins(plugins), { port: values.port, host: values.host, token: values.token })
    case 'serve':
      return (await import('./serve.js')).runServe(rest, { broker: values.broker, username: values.username, passwordEnv: values['password-env'], ca: values.ca, replica: values.replica })
    case 'replicas':
      return (await import('./replicas.js')).runReplicas(requirePlugins(plugins), rest[0], values.json ?? false)
    case 'validate':
      return (await import('./validate.js')).runValidate(rest)
    case 'check':
      return (await import('./check.js')).runCheck(rest, values.json ?? false)
    case 'dev':
      return (await import('./dev.js')).runDev(rest, { on: values.on ?? [], ...(values.timeout === undefined ? {} : { timeout: Number(values.timeout) }) })
    case 'types':
      return (await import('./types.js')).runTypes(rest, values.out)
    case 'pack':
      return (await import('./package.js')).runPack(rest, { out: values.out, sign: values.sign, json: values.json ?? false })
    case 'install':
      return (await import('./package.js')).runInstall(requirePlugins(plugins), rest, { force: values.force ?? false, trust: values.trust ?? [], json: values.json ?? false })
    case 'keygen':
      return (await import('./package.js')).runKeygen(rest, values.json ?? false)
    case 'init':
      return (await import('./init.js')).runInit(rest, { lang: values.lang, kind: values.kind, transport: values.transport })
    case 'kit':
      return runKit(rest, values.force ?? false)
    case 'uninstall':
      return (await import('./package.js')).runUninstall(requirePlugins(plugins), rest, values.json ?? false)
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

function requirePlugins(plugins: string[]): string[] {
  if (plugins.length === 0) throw new UsageError('--plugins DIR is required')
  return plugins
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`polyplug: ${(error as Error).message}\n\n${usage}`)
      process.exitCode = 2
      return
    }
    // A typed error is the command failing (exit 1, the documented format); anything else is a polyplug bug: its stack.
    process.stderr.write(error instanceof PolyplugError ? formatError(error) : `polyplug: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = 1
  },
)
