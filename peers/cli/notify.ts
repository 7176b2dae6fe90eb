// Completion notices outside the terminal: an OS notification through whichever notifier
// exists (notify-send, terminal-notifier, osascript), and a user hook fed the task as JSON.

import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

async function onPath (name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    // Not there, or not executable: look in the next directory.
    try { await access(join(dir, name), constants.X_OK); return true } catch {}
  }
  return false
}

export type Notifier = (title: string, body: string) => void

/** The OS notifier of this machine, or null when there is none. */
export async function findNotifier (env: NodeJS.ProcessEnv): Promise<{ name: string, notify: Notifier } | null> {
  const run = (cmd: string, args: string[]): void => {
    const child = spawn(cmd, args, { stdio: 'ignore', env })
    child.on('error', () => {})
    child.unref()
  }
  if (await onPath('notify-send', env)) return { name: 'notify-send', notify: (t, b) => run('notify-send', ['--app-name=dispatch', t, b]) }
  if (await onPath('terminal-notifier', env)) return { name: 'terminal-notifier', notify: (t, b) => run('terminal-notifier', ['-title', t, '-message', b]) }
  if (process.platform === 'darwin' && await onPath('osascript', env)) {
    return { name: 'osascript', notify: (t, b) => run('osascript', ['-e', `display notification ${JSON.stringify(b)} with title ${JSON.stringify(t)}`]) }
  }
  return null
}

/** Runs `command` in a shell with `json` on its standard input; its output lines go to `out`. */
export function runHook (command: string, json: string, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number | null> {
  return new Promise(resolve => {
    const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], env })
    const forward = (d: Buffer): void => { for (const l of d.toString().split('\n')) if (l !== '') out(l) }
    child.stdout.on('data', forward)
    child.stderr.on('data', forward)
    child.stdin.on('error', () => {})
    child.stdin.end(json + '\n')
    child.on('error', err => { out(`--exec failed: ${err.message}`); resolve(null) })
    child.on('exit', code => resolve(code))
  })
}
