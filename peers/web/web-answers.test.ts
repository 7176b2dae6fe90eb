// The phone web app answering the desktop, in a real Chromium (390×844) against a real
// `dispatch desktop --web` running Claude through the real SDK against the Messages API double
// (no terminal granted): Allow once, Deny with a note (Claude reads it), Reply to ask_user, and
// a follow-up on a finished task whose request carries the earlier messages; a file attached
// on the page reaches the desktop's folder and Claude (image block); a big output downloads.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir, readFile, readdir } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import type { DispatchProcess } from '../e2e/cli-process.ts'
import { MOBILE, addTask, openPairedPage, startWebDesktop } from './web-fixture.ts'
import { startAnthropicDouble, toolResults } from '../agent/anthropic-double.ts'
import type { AnthropicDouble, RecordedRequest, ScriptStep } from '../agent/anthropic-double.ts'

const test = suite('web app answers in Chromium')
const skipped = chromiumUnavailable()

const scripts: Record<string, ScriptStep[]> = {
  'make a file': [{ toolUses: [{ name: 'bash', input: { command: 'echo from-the-page > page.txt' } }] }, { text: 'Made page.txt.' }],
  'clean up': [{ toolUses: [{ name: 'bash', input: { command: 'rm -rf build' } }] }, { text: 'Left build alone.' }],
  'look at my picture': [{ text: 'Nice picture.' }],
  'make a big file': [{ toolUses: [{ name: 'write', input: { file_path: 'big.txt', content: 'y'.repeat(300_000) } }] }, { text: 'Wrote big.txt.' }],
  'plan dinner': [{ toolUses: [{ name: 'ask_user', input: { question: 'Fish or pasta?' } }] }, { text: 'Pasta it is.' }, { text: 'Then risotto.' }]
}
const byTask = (req: RecordedRequest): ScriptStep => {
  const content = req.body?.messages?.[0]?.content
  // With attachments the first message is a list of blocks, the task's text first.
  const first = Array.isArray(content) ? content[0]?.text : content
  const key = Object.keys(scripts).find(k => typeof first === 'string' && first.startsWith(k))
  const turn = (req.body?.messages ?? []).filter((m: any) => m.role === 'assistant').length
  return key === undefined ? { text: 'done' } : scripts[key]![turn] ?? { text: 'done' }
}

let chromium: LaunchedChromium
let root: string
let home: string
let work: string
let desktop: DispatchProcess
let double: AnthropicDouble
let context: BrowserContext
let page: Page

const requestsOf = (text: string): RecordedRequest[] => double.requests.filter(r => r.body?.messages?.[0]?.content === text)
const card = (text: string, status: string) => page.locator(`.task[data-status="${status}"]`, { has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }) })

test.before(async () => {
  if (skipped !== null) return
  root = await mkdtemp(join(tmpdir(), 'dispatch-web-answers-'))
  home = join(root, 'desktop')
  work = join(root, 'work')
  await mkdir(work)
  double = await startAnthropicDouble(byTask)
  const launched = launchChromium()
  ;({ desktop } = await startWebDesktop(home, { name: 'studio', work, env: { ANTHROPIC_API_KEY: 'sk-test-double', ANTHROPIC_BASE_URL: double.url } }))
  chromium = await launched
  context = await chromium.context(MOBILE)
  ;({ page } = await openPairedPage(context, home))
})

test.after(async () => {
  if (skipped !== null) return
  await context?.close()
  await desktop?.stop()
  await chromium?.close()
  await double?.close()
  await rm(root, { recursive: true, force: true })
})

if (skipped !== null) {
  console.log(`SKIPPED web app answer tests: ${skipped}`)
  test.skip(`web app answers in Chromium (skipped: ${skipped})`, () => {})
} else {
  test('Allow once: the card shows what waits for approval; the command runs; the audit names this browser', async () => {
    await addTask(page, 'make a file')
    const waiting = card('make a file', 'awaiting-approval')
    await waiting.waitFor({ timeout: 30_000 })
    assert.match(await waiting.locator('.request code').innerText(), '$ echo from-the-page > page.txt')
    assert.match(await waiting.locator('.request').innerText(), /terminal is not granted/)
    await waiting.locator('button.approve').click()
    const done = card('make a file', 'done')
    await done.waitFor({ timeout: 30_000 })
    assert.match(await done.locator('.result').innerText(), 'Made page.txt.')
    assert.is(await readFile(join(work, 'page.txt'), 'utf8'), 'from-the-page\n')
    const peer = await page.evaluate(() => document.body.dataset.peer)
    const audit = (await readFile(join(home, 'audit.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))
    assert.ok(audit.some(e => e.tool === 'bash' && e.decision === 'allowed' && e.by === peer), JSON.stringify(audit))
  })

  test('Deny with a note: Claude gets an error result carrying the note', async () => {
    await addTask(page, 'clean up')
    const waiting = card('clean up', 'awaiting-approval')
    await waiting.waitFor({ timeout: 30_000 })
    await waiting.locator('input.note').fill('keep build, please')
    await waiting.locator('button.deny').click()
    await card('clean up', 'done').waitFor({ timeout: 30_000 })
    const r = toolResults(requestsOf('clean up').at(-1)!)[0]!
    assert.is(r.is_error, true)
    assert.match(r.text, /denied by the user: keep build, please/)
  })

  test('Reply to a question, then a follow-up on the finished task carries the conversation', async () => {
    await addTask(page, 'plan dinner')
    const waiting = card('plan dinner', 'awaiting-answer')
    await waiting.waitFor({ timeout: 30_000 })
    assert.match(await waiting.locator('.request').innerText(), 'Fish or pasta?')
    await waiting.locator('input.reply-text').fill('pasta, please')
    await waiting.locator('button.reply').click()
    const done = card('plan dinner', 'done')
    await done.waitFor({ timeout: 30_000 })
    assert.equal(toolResults(requestsOf('plan dinner').at(-1)!).map(r => r.text), ['pasta, please'])
    await done.locator('summary.open-detail').click() // a compact card opens into its detail
    await done.locator('input.follow-text').fill('something lighter?')
    await done.locator('button.follow-up').click()
    await card('something lighter\\?', 'done').waitFor({ timeout: 30_000 })
    const last = requestsOf('plan dinner').at(-1)!
    assert.equal(last.body.messages.map((m: any) => m.role), ['user', 'assistant', 'user', 'assistant', 'user'])
    assert.equal(last.body.messages.at(-1), { role: 'user', content: 'something lighter?' })
  })

  test('a file attached on the page arrives in the task folder and reaches Claude as an image block; a big output downloads', async () => {
    const picture = randomBytes(700_000)
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
    await page.setInputFiles('#attach', { name: 'pic.png', mimeType: 'image/png', buffer: picture })
    await addTask(page, 'look at my picture')
    await page.locator('.task[data-status="done"]', { hasText: 'Nice picture.' }).waitFor({ timeout: 45_000 })
    const req = double.requests.find(r => Array.isArray(r.body?.messages?.[0]?.content) && r.body.messages[0].content[0].text === 'look at my picture')!
    const img = req.body.messages[0].content.find((b: any) => b.type === 'image')
    assert.is(img.source.media_type, 'image/png')
    assert.is(sha(Buffer.from(img.source.data, 'base64')), sha(picture))
    const [taskDir] = await readdir(join(work, 'dispatch-attachments'))
    assert.is(sha(await readFile(join(work, 'dispatch-attachments', taskDir!, 'pic.png'))), sha(picture))

    await addTask(page, 'make a big file')
    const done = card('make a big file', 'done')
    await done.waitFor({ timeout: 30_000 })
    await done.locator('summary.open-detail').click()
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), done.locator('button.download').click()])
    const saved = join(root, 'downloaded.txt')
    await download.saveAs(saved)
    assert.is(download.suggestedFilename(), 'big.txt')
    assert.is(await readFile(saved, 'utf8'), 'y'.repeat(300_000))
  })
}

test.run()
