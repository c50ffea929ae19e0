/** The error for a plugin program the OS will not run: shared by the sandbox's program lookup and the spawn itself. */
import { constants } from 'node:os'
import { getSystemErrorMap } from 'node:util'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

/** An Error shaped as Node's spawn errors are, for a failure found before spawning (ENOENT, EACCES). */
export function spawnError(command: string, code: 'ENOENT' | 'EACCES'): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${command} ${code}`), { code, errno: -constants.errno[code], syscall: 'spawn', path: command })
}

/** PLUGIN_UNAVAILABLE for a command the OS refused to run, naming the command, the errno and the likely fix. */
export function spawnFailed(plugin: string, command: string, cause: Error): PolyplugError {
  const { code, errno, syscall } = cause as NodeJS.ErrnoException
  const described = errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1]
  const os = code ? `${code}${described ? ` (${described})` : ''}` : cause.message
  const hint =
    code === 'ENOENT'
      ? ': check sidecar.command (or entry) and that the program is installed'
      : code === 'EACCES'
        ? ': make the file executable (chmod +x, with a #! line) or name its interpreter in sidecar.command, e.g. ["python3", "main.py"]'
        : ''
  return new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot start the plugin: ${JSON.stringify(command)} failed with ${os}${hint}`, {
    plugin,
    cause,
    data: { command, code, syscall },
  })
}

