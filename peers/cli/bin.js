#!/usr/bin/env node
// Entry point of `dispatch` (package.json "bin"). Plain JS so that an old Node gets a
// clear message instead of a syntax error: the sources are TypeScript run by Node's type stripping.
if (!process.features.typescript) {
  process.stderr.write(`dispatch: needs Node.js >= 22.18 with type stripping (this is ${process.version}); run it as \`npx dispatch\` in the project, which uses the Node 24 it installs\n`)
  process.exit(1)
}
const { main } = await import('./main.ts')
await main()
