// Claude's bash tool, recorded and (without the network grant) cut from the network. The SDK
// starts its persistent /bin/bash itself (detached: the shell's pid is its process group), so
// the desktop cannot wrap it; bash reads BASH_ENV first, and this hook, written into the home,
// records the shell in `runs/` (fsynced, as run-records.ts reads it) before any command runs,
// then re-executes the same shell (same pid, same pipes) inside the sandbox when asked to.

import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { RUNS_DIR, fileSafe } from './run-records.ts'
import { shellWord } from './sandbox.ts'
import type { NoNetwork } from './sandbox.ts'

export const BASH_HOOK_FILE = 'claude-bash.bash'

/**
 * Writes the hook into `home` and returns the environment of the bash tool for one task: the
 * hook, who to record the shell for, and whether to cut the network.
 */
export async function writeBashHook (home: string, noNetwork: NoNetwork): Promise<(taskId: string, network: boolean) => Record<string, string>> {
  const file = path.join(home, BASH_HOOK_FILE)
  const runs = path.join(home, RUNS_DIR)
  const cut = noNetwork.enforced ? [...noNetwork.prefix, '/bin/bash', '--noprofile', '--norc'].map(shellWord).join(' ') : ''
  const hook = [
    '# Written by dispatch desktop (peers/agent/bash-hook.ts); read by Claude\'s bash tool at start (BASH_ENV).',
    'unset BASH_ENV',
    'if [ -r /proc/$$/stat ]; then read -r __d_stat < /proc/$$/stat; set -- ${__d_stat##*) }; __d_start=${20}',
    'else __d_start=$(ps -o lstart= -p $$ | sed \'s/^ *//;s/ *$//\'); fi',
    '__d_file="$DISPATCH_RUNS_DIR/$DISPATCH_RUN_NAME-$$.json"',
    'mkdir -p "$DISPATCH_RUNS_DIR" &&',
    '  printf \'{"taskId":%s,"pgid":%d,"startTime":"%s","recordedAt":"%s"}\' "$DISPATCH_RUN_TASK" $$ "$__d_start" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$__d_file.tmp" &&',
    '  { sync "$__d_file.tmp" 2>/dev/null || sync; } && mv "$__d_file.tmp" "$__d_file" && { sync "$DISPATCH_RUNS_DIR" 2>/dev/null || sync; } ||',
    '  { echo "dispatch: cannot record this shell in $DISPATCH_RUNS_DIR" >&2; exit 125; }',
    '__d_cut=$DISPATCH_NO_NETWORK',
    'unset __d_stat __d_start __d_file DISPATCH_RUNS_DIR DISPATCH_RUN_NAME DISPATCH_RUN_TASK DISPATCH_NO_NETWORK',
    'set --',
    cut === ''
      ? 'unset __d_cut'
      : `if [ -n "$__d_cut" ]; then unset __d_cut; exec ${cut}; fi; unset __d_cut`,
    ''
  ].join('\n')
  await fs.mkdir(home, { recursive: true, mode: 0o700 })
  await fs.writeFile(file, hook, { mode: 0o600 })
  return (taskId, network) => ({
    BASH_ENV: file,
    DISPATCH_RUNS_DIR: runs,
    DISPATCH_RUN_NAME: fileSafe(taskId),
    DISPATCH_RUN_TASK: JSON.stringify(taskId),
    ...(!network && noNetwork.enforced ? { DISPATCH_NO_NETWORK: '1' } : {})
  })
}
