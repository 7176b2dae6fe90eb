// The package as a stranger gets it: `npm pack` this repository, install the tarball into a
// fresh project outside it, and there, from plain JavaScript importing only 'dispatch-p2p',
// two processes pair by invite and sync a document. Prints how long pack and install took.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')

// The first device opens an invite and starts the second with it; each writes, each reads.
const FIRST = `
import { spawn } from 'node:child_process'
import { createSyncNode, MemoryStore, PairingService } from 'dispatch-p2p'

const node = await createSyncNode()
const space = await node.openSpace('shared', { storage: new MemoryStore() })
const pairing = new PairingService(node, space, { name: 'first' })
await pairing.start()
const invite = pairing.openInvite()
const second = spawn(process.execPath, ['second.mjs', invite.text], { stdio: ['ignore', 'inherit', 'inherit'] })
console.log('first: paired with ' + (await invite.paired).name)
const text = space.doc.getText('t')
text.insert(0, 'from first;')
await new Promise(resolve => text.observe(() => { if (text.toString().includes('from second')) resolve() }))
console.log('first: ' + text.toString())
await node.stop()
process.exitCode = await new Promise(resolve => second.on('exit', resolve))
`

const SECOND = `
import { createSyncNode, FileStore, acceptInvite } from 'dispatch-p2p'

const node = await createSyncNode()
const space = await node.openSpace('shared', { storage: new FileStore({ dir: 'second-store' }) })
const desk = await acceptInvite(node, space, process.argv[2], { name: 'second' })
await node.connect(desk.addrs)
const text = space.doc.getText('t')
await new Promise(resolve => { const check = () => { if (text.toString().includes('from first')) resolve() }; text.observe(check); check() })
text.insert(text.length, 'from second;')
await new Promise(resolve => space.once('peer-disconnected', resolve))
console.log('second: ' + text.toString())
await node.stop()
`

// The other documented entries load, with their types alongside.
const ENTRIES = `
import * as core from 'dispatch-p2p'
import { LevelStore } from 'dispatch-p2p/leveldb'
import { TaskBoard } from 'dispatch-p2p/peers'
console.log(typeof core.createSyncNode, typeof LevelStore, typeof TaskBoard)
`

test('npm pack, install into a fresh project, and two plain-JS processes pair by invite and sync', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-pack-'))
  try {
    let started = Date.now()
    await run('npm', ['pack', '--pack-destination', dir], { cwd: root, timeout: 180_000 })
    const packMs = Date.now() - started
    const [tarball] = (await readdir(dir)).filter(f => f.endsWith('.tgz'))
    assert.ok(tarball !== undefined, 'npm pack made a tarball')

    const app = join(dir, 'app')
    await run('mkdir', [app])
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'stranger', private: true, type: 'module' }))
    started = Date.now()
    // --prefer-offline: dependencies come from the npm cache when it has them (CI's `npm ci` filled it).
    await run('npm', ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 300_000 })
    const installMs = Date.now() - started
    console.log(`  npm pack ${(packMs / 1000).toFixed(1)} s, npm install of the tarball ${(installMs / 1000).toFixed(1)} s`)

    const files = await readdir(join(app, 'node_modules', 'dispatch-p2p', 'dist', 'core'))
    assert.ok(files.includes('index.js') && files.includes('index.d.ts'), 'JavaScript and declarations are in the package')

    await writeFile(join(app, 'entries.mjs'), ENTRIES)
    const entries = await run(process.execPath, ['entries.mjs'], { cwd: app, timeout: 60_000 })
    assert.is(entries.stdout.trim(), 'function function function')

    // The installed `dispatch` command runs the built JavaScript.
    const help = await run(process.execPath, [join(app, 'node_modules/.bin/dispatch'), 'help'], { cwd: app, timeout: 60_000 })
    assert.match(help.stdout, 'usage: dispatch <verb>')

    await writeFile(join(app, 'first.mjs'), FIRST)
    await writeFile(join(app, 'second.mjs'), SECOND)
    const { stdout } = await run(process.execPath, ['first.mjs'], { cwd: app, timeout: 60_000 })
    assert.match(stdout, 'first: paired with second')
    assert.match(stdout, 'first: from first;from second;')
    assert.match(stdout, 'second: from first;from second;')
    assert.ok((await readdir(join(app, 'second-store'))).length > 0, 'the second device stored the document')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
