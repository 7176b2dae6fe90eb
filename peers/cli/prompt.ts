// Asking the person at the terminal a yes/no question (pairing confirmation).

import { createInterface } from 'node:readline/promises'

/** Writes `question` to stderr and reads one line from stdin; only "y" or "yes" mean yes. */
export async function askYesNo (question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false })
  try {
    process.stderr.write(`${question} [y/N] `)
    const answer = await rl.question('', { signal })
    return /^y(es)?$/i.test(answer.trim())
  } catch {
    // Interrupted (signal) or stdin closed without an answer: that is a "no", never a pairing.
    return false
  } finally {
    rl.close()
  }
}
