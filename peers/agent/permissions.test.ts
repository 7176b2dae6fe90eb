// Permissions: the path table (0 escapes), scope narrowing, config merge.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Permissions, loadGrants, saveGrants, isWithin, PermissionDeniedError } from './permissions.ts'
import { buildPathTable } from './path-table.fixture.ts'

test('path table: every escape is refused, every legitimate path allowed', async () => {
  const table = await buildPathTable()
  try {
    assert.ok(table.cases.length >= 50, `${table.cases.length} cases`)
    const perms = await Permissions.forTask(table.grants)
    const wrong: string[] = []
    for (const c of table.cases) {
      const d = await perms.decide(c.path, c.access)
      if (d.allowed !== c.allowed) wrong.push(`${c.name} (${JSON.stringify(c.path)} ${c.access}): expected ${c.allowed ? 'allowed' : 'denied'}, got ${d.allowed ? 'allowed' : 'denied'}: ${d.reason}`)
    }
    assert.equal(wrong, [], wrong.join('\n'))
  } finally { await table.cleanup() }
})

test('check() throws PermissionDeniedError with the reason', async () => {
  const table = await buildPathTable()
  try {
    const perms = await Permissions.forTask(table.grants)
    try {
      await perms.check('../outside/secret.txt', 'read')
      assert.unreachable()
    } catch (err) {
      assert.instance(err, PermissionDeniedError)
      assert.match((err as Error).message, /outside the granted folders/)
    }
    assert.is(await perms.check('a.txt', 'read'), path.join(table.work, 'a.txt'), 'returns the real path')
  } finally { await table.cleanup() }
})

test('a task scope narrows and never widens', async () => {
  const table = await buildPathTable()
  try {
    const sub = path.join(table.work, 'sub')
    const narrowed = await Permissions.forTask(table.grants, sub)
    assert.is(narrowed.workdir(), sub)
    assert.ok((await narrowed.decide('b.txt', 'read')).allowed)
    assert.ok((await narrowed.decide('new.txt', 'write')).allowed)
    assert.not.ok((await narrowed.decide(path.join(table.work, 'a.txt'), 'read')).allowed, 'the rest of the grant is out of scope')
    assert.not.ok((await narrowed.decide('../a.txt', 'write')).allowed)
    const ro = await Permissions.forTask(table.grants, path.join(table.root, 'docs'))
    assert.not.ok(await ro.canWriteSomewhere(), 'a read-only scope cannot write')
    for (const wider of [table.root, path.join(table.root, 'outside'), '/', path.join(table.work, 'link-out'), path.join(table.root, 'workshop')]) {
      try {
        await Permissions.forTask(table.grants, wider)
        assert.unreachable(`scope ${wider} should be refused`)
      } catch (err) { assert.is((err as Error).name, 'PermissionDeniedError', wider) }
    }
  } finally { await table.cleanup() }
})

test('grants resolve at check time: a grant swapped for a symlink follows the new target', async () => {
  const table = await buildPathTable()
  try {
    const perms = await Permissions.forTask(table.grants)
    assert.ok((await perms.decide('a.txt', 'read')).allowed)
    // replace the granted folder by a link to outside: its contents are now outside's contents
    await fs.rename(table.work, table.work + '-moved')
    await fs.symlink(path.join(table.root, 'outside'), table.work)
    const d = await perms.decide('secret.txt', 'read')
    assert.ok(d.allowed, 'the grant names the folder; the folder now is outside/ (the user made it so)')
    assert.is(d.real, path.join(table.root, 'outside', 'secret.txt'))
    assert.not.ok((await perms.decide(path.join(table.work + '-moved', 'a.txt'), 'read')).allowed, 'the old location is no longer granted')
  } finally { await table.cleanup() }
})

test('isWithin is component-wise', () => {
  assert.ok(isWithin('/a/b', '/a/b'))
  assert.ok(isWithin('/a/b', '/a/b/c'))
  assert.not.ok(isWithin('/a/b', '/a/bc'))
  assert.not.ok(isWithin('/a/b', '/a'))
  assert.ok(isWithin('/', '/x'))
})

test('grants: home config merged with flags', async () => {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-home-'))
  try {
    assert.equal(await loadGrants(home, {}, '/cwd'), { readWrite: [], readOnly: [], terminal: false, network: false })
    await saveGrants(home, { readWrite: ['/saved/rw'], readOnly: ['/saved/ro'], terminal: true, network: false })
    const st = await fs.stat(path.join(home, 'permissions.json'))
    assert.is(st.mode & 0o777, 0o600)
    const g = await loadGrants(home, { readWrite: ['proj'], network: true }, '/cwd')
    assert.equal(g.readWrite, ['/cwd/proj', '/saved/rw'])
    assert.equal(g.readOnly, ['/saved/ro'])
    assert.is(g.terminal, true)
    assert.is(g.network, true)
    assert.is((await loadGrants(home, { terminal: false })).terminal, false, 'a flag overrides the file')
    await fs.writeFile(path.join(home, 'permissions.json'), '{not json')
    try { await loadGrants(home); assert.unreachable() } catch (err) { assert.match((err as Error).message, /cannot read/) }
  } finally { await fs.rm(home, { recursive: true, force: true }) }
})

test('no folders granted: a clear refusal', async () => {
  const perms = await Permissions.forTask({ readWrite: [], readOnly: [], terminal: true, network: false })
  assert.throws(() => perms.workdir(), /granted no folders/)
  assert.not.ok((await perms.decide('/etc/passwd', 'read')).allowed)
})

test.run()
