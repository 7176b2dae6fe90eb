// `dispatch show TASK_ID`: one task (id prefix ok) from the live document or the archive,
// with its status, result, outputs and log. `--save DIR` writes its outputs into DIR: the ones
// too big for the document are fetched from the desktop by sha256 (blob protocol) first.

import { mkdir, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import { withApp } from '../../device/reach.ts'
import { homeLayout } from '../../home/layout.ts'
import type { TaskOutput } from '../../app/api.ts'
import { describeTask } from '../format.ts'
import type { Verb } from '../verb.ts'

export const show: Verb = {
  name: 'show',
  usage: 'TASK_ID [--save DIR]',
  summary: 'show one task: status, result, outputs, log (id prefix ok); --save DIR: write its outputs there',
  options: { save: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const save = ctx.values.save as string | undefined
    // Saving dials the desktop: the node then needs its members' addresses, like sync does.
    const open = save !== undefined ? { listen: [] } : { listen: [], dialMembers: false }
    const { task, saved } = await withApp(ctx.home, { open, readOnly: save === undefined }, async api => {
      const task = await api.show({ id: ctx.positionals[0] }, { signal: ctx.signal })
      if (save === undefined) return { task, saved: [] }
      const { outputs } = await api.fetchOutputs({ id: task.id }, { signal: ctx.signal })
      return { task, saved: await saveOutputs(ctx.home, outputs, resolve(save)) }
    })
    if (ctx.json) { ctx.printJson(save !== undefined ? { ...task, saved } : task); return }
    ctx.print(describeTask(task).join('\n'))
    for (const f of saved) ctx.print(`saved ${f}`)
  }
}

/** Writes each output (inline text, or the verified blob) into `dir` under its file name; returns the paths. */
async function saveOutputs (home: string, outputs: TaskOutput[], dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  // Loaded only with --save: every `dispatch` start would otherwise load the engine.
  const { FileBlobStore } = await import('../../../core/blob/file-blob-store.ts')
  const { BlobHashMismatchError } = await import('../../../core/blob/blob-store.ts')
  const store = await FileBlobStore.open(homeLayout(home).blobs)
  const taken = new Set<string>()
  const out: string[] = []
  try {
    for (const o of outputs) {
      const bytes = o.text !== undefined ? Buffer.from(o.text, 'utf8') : await store.read(o.sha256, 0, o.size)
      if (createHash('sha256').update(bytes).digest('hex') !== o.sha256) throw new BlobHashMismatchError(`${o.path}: the bytes do not match its sha256`)
      // Two outputs with one name (different folders) get numbered rather than overwrite each other.
      let name = basename(o.path)
      for (let n = 2; taken.has(name); n++) name = `${n}-${basename(o.path)}`
      taken.add(name)
      const file = join(dir, name)
      await writeFile(file, bytes)
      out.push(file)
    }
    return out
  } finally { await store.close() }
}
