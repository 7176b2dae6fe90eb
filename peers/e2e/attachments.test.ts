// Attachments across processes: a phone (`dispatch add --attach`) and a desktop (Claude through
// the real SDK against the Messages API double), each a `dispatch` process. A 5 MB image sent
// from the phone arrives byte-identical in the task's folder (fetched by sha256 over the blob
// protocol) and reaches the API as an image block; other files are named by path. A 3 MB output
// (too big for the document) is saved on the phone intact with `show --save`. An attachment
// that does not exist is refused with one line.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, readFile, writeFile, mkdir } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ok, dispatch, DispatchProcess } from './cli-process.ts'
import { pairPhone } from './tasks-fixture.ts'
import { startAnthropicDouble } from '../agent/anthropic-double.ts'
import type { AnthropicDouble } from '../agent/anthropic-double.ts'

const root = await mkdtemp(join(tmpdir(), 'dattach-'))
const [desk, phone, work, files] = [join(root, 'd'), join(root, 'p'), join(root, 'work'), join(root, 'files')]
let desktop: DispatchProcess
let double: AnthropicDouble
/** 3 MB of text that does not repeat in short runs (the output is not inlined: over 64 KiB). */
const BIG = Array.from({ length: 60_000 }, (_, i) => `line ${i} ${(i * 2654435761 % 4294967296).toString(36)} `.padEnd(50, '.')).join('\n')
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

test.before(async () => {
  await mkdir(work, { recursive: true })
  await mkdir(files, { recursive: true })
  double = await startAnthropicDouble((req) => {
    const first = req.body?.messages?.[0]?.content
    if (first === 'write a big report' && req.body.messages.length === 1) return { toolUses: [{ name: 'write', input: { file_path: 'report.txt', content: BIG } }] }
    return { text: first === 'write a big report' ? 'Wrote report.txt.' : 'Looked at it.' }
  })
  desktop = new DispatchProcess(desk, ['desktop', '--json', '--name', 'studio', '--listen', '/ip4/127.0.0.1/tcp/0', '--allow', work],
    { ANTHROPIC_API_KEY: 'sk-test-double', ANTHROPIC_BASE_URL: double.url })
  await desktop.waitFor(l => l.event === 'ready')
  await pairPhone(desk, phone)
})

test.after(async () => {
  desktop?.child.kill('SIGKILL')
  await desktop?.exited
  await double.close()
  await rm(root, { recursive: true, force: true })
})

test('a 5 MB image and a text file attached on the phone arrive byte-identical; the image reaches the API as an image block', async () => {
  const image = randomBytes(5 * 1024 * 1024)
  await writeFile(join(files, 'photo.png'), image)
  await writeFile(join(files, 'notes.txt'), 'see the photo\n')
  const [r] = await ok(phone, ['add', '--json', '--attach', join(files, 'photo.png'), '--attach', join(files, 'notes.txt'), 'describe the photo'])
  assert.is(r.delivered, true)
  assert.is(r.attachmentsDelivered, true)
  const placed = join(work, 'dispatch-attachments', r.id)
  assert.is(sha(await readFile(join(placed, 'photo.png'))), sha(image))
  assert.is(await readFile(join(placed, 'notes.txt'), 'utf8'), 'see the photo\n')
  const done = await desktop.waitFor(l => l.event === 'task-end' && l.id === r.id, 30_000)
  assert.is(done.status, 'done')
  const req = double.requests.find(q => Array.isArray(q.body?.messages?.[0]?.content) && q.body.messages[0].content[0].text === 'describe the photo')!
  assert.ok(req !== undefined, 'the API got the task')
  const blocks = req.body.messages[0].content
  const img = blocks.find((b: any) => b.type === 'image')
  assert.is(img.source.media_type, 'image/png')
  assert.is(sha(Buffer.from(img.source.data, 'base64')), sha(image))
  assert.match(blocks.at(-1).text, new RegExp(`${join(placed, 'notes.txt')} \\(text/plain, 14 bytes\\)`))
  const shown = (await ok(desk, ['show', '--json', r.id]))[0]
  assert.equal(shown.attachments.map((a: any) => [a.name, a.size, a.sha256]), [['photo.png', image.length, sha(image)], ['notes.txt', 14, sha(Buffer.from('see the photo\n'))]])
  assert.not.ok(shown.outputs.some((o: any) => o.path.includes('dispatch-attachments')), 'attachments are inputs, not outputs')
})

test('a 3 MB output is not in the document; show --save fetches it from the desktop, intact', async () => {
  const [r] = await ok(phone, ['add', '--json', '--wait', 'write a big report'])
  assert.is(r.task.status, 'done', r.task.error)
  const out = r.task.outputs.find((o: any) => o.path.endsWith('report.txt'))
  assert.is(out.size, Buffer.byteLength(BIG))
  assert.ok(out.size > 3_000_000)
  assert.is(out.text, undefined, 'too big to inline')
  const saveDir = join(root, 'saved')
  const [shown] = await ok(phone, ['show', '--json', r.id, '--save', saveDir])
  assert.equal(shown.saved, [join(saveDir, 'report.txt')])
  const saved = await readFile(join(saveDir, 'report.txt'))
  assert.is(sha(saved), out.sha256)
  assert.is(saved.toString('utf8'), BIG)
})

test('an attachment that does not exist: one line, exit 2, nothing queued', async () => {
  const r = await dispatch(phone, ['add', '--attach', join(files, 'nope.png'), 'look'])
  assert.is(r.code, 2)
  assert.match(r.stderr, /--attach .*nope\.png: no such file/)
  assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr)
})

test.run()
