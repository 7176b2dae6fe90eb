#!/usr/bin/env node
// Entry point of `dispatch` (package.json "bin"). Plain JS so that an old Node gets a
// clear message instead of a syntax error. In this repository it runs the TypeScript
// sources (Node's type stripping); installed from the package, it runs the built `dist/`.
import { existsSync } from 'node:fs'
import module from 'node:module'

// Every verb is a short process that loads the same few hundred modules: keep V8's compiled code
// between runs (Node's on-disk compile cache, in the OS temp folder; about a third of the start-up).
module.enableCompileCache?.()

const built = new URL('../../dist/peers/cli/main.js', import.meta.url)
const fromPackage = import.meta.url.includes('/node_modules/')
if (fromPackage && existsSync(built)) {
  const { main } = await import(built.href)
  await main()
} else {
  if (!process.features.typescript) {
    process.stderr.write(`dispatch: needs Node.js >= 22.18 with type stripping (this is ${process.version}); run it as \`npx dispatch\` in the project, which uses the Node 24 it installs\n`)
    process.exit(1)
  }
  const { main } = await import('./main.ts')
  await main()
}
