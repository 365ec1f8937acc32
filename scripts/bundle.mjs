#!/usr/bin/env node
// Bundles the CLI for start-up speed: bin/plumb loads dist/bundle/main.js.
// Usage: node scripts/bundle.mjs [OUTDIR] (default dist/bundle; the
// benchmarks bundle into a snapshot of the tree).
//
// Why: a `plumb run` process is mostly Node starting and loading modules.
// Loaded from dist/ as tsc writes it, the run path is ~100 files, and Node 20
// spends ~60 ms resolving, reading and compiling them one by one (it has no
// compile cache before Node 22). esbuild puts them into a few files; each
// dynamic import() stays a separate chunk, so a command still loads only what
// it needs. commander is bundled too; etcd3 (gRPC, loaded only for overlay
// networks) and execa stay in node_modules.
//
// The chunks sit directly in dist/bundle/, one directory below dist/ like the
// tsc output, so paths relative to import.meta.url (bin/plumb, package.json,
// native/) resolve the same from both.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? join(root, 'dist', 'bundle'));
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: '[name]-[hash]',
  external: ['etcd3', 'execa'],
  // commander is CommonJS: its require() calls of Node's built-ins need a require in an ES module.
  banner: { js: "import { createRequire as plumbCreateRequire } from 'node:module'; const require = plumbCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
