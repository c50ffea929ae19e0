/** The host layer's error codes: the host's own API and contributions: lookups, commands, hooks, settings, storage (src/host). Meanings, causes and fixes: docs/errors.md. */
export const HostErrorCodes = {
  PLUGIN_NOT_FOUND: 'PLUGIN_NOT_FOUND',
  COMMAND_NOT_FOUND: 'COMMAND_NOT_FOUND',
  HOOK_NOT_FOUND: 'HOOK_NOT_FOUND',
  CONFIG_INVALID: 'CONFIG_INVALID',
  STORAGE_QUOTA_EXCEEDED: 'STORAGE_QUOTA_EXCEEDED',
} as const
