#!/usr/bin/env node
// Bundles the CLI for start-up speed: bin/plumb loads dist/bundle/plumb.cjs.
// Usage: node scripts/bundle.mjs [OUTDIR] (default dist/bundle; the
// benchmarks bundle into a snapshot of the tree).
//
// Why: a `plumb run` process is mostly Node starting and loading modules.
// Loaded from dist/ as tsc writes it, the run path is ~100 files, and Node 20
// spends ~60 ms resolving, reading and compiling them one by one (it has no
// compile cache before Node 22). esbuild puts all of it into one CommonJS
// file: Node's ES module loader costs several ms per module (resolution,
// linking, the facade of every built-in module imported), and one script is
// what a V8 code cache can cover (bin/code-cache.cjs). Each dynamic import()
// stays lazy inside the file: a command still evaluates only the modules it
// needs, and compiles only the functions it runs. commander is bundled too;
// etcd3 (gRPC, loaded only by the long-lived watchers) stays in node_modules.
//
// The bundle sits directly in dist/bundle/, one directory below dist/ like the
// tsc output, so paths relative to import.meta.url (bin/plumb, package.json,
// native/) resolve the same from both.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * commander requires child_process when it loads, for executable subcommands,
 * which plumb does not have; loading it (with net and streams) costs every
 * plumb process ~3 ms. commander gets a stand-in that loads the real module
 * on first use (plumb's own programs go through src/kernel/runner.ts, which loads execa, and with it child_process, on the first program run).
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'commander')}`) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};
const outdir = resolve(process.argv[2] ?? join(root, 'dist', 'bundle'));
// Also removes the code caches of the previous bundle.
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: join(outdir, 'plumb.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['etcd3'],
  // Every import() becomes a require() (etcd3 is CommonJS): Node 20 loses the
  // dynamic-import callback of a script compiled from a code cache, so a real
  // import() there fails ("A dynamic import callback was not specified").
  supported: { 'dynamic-import': false },
  // CommonJS has no import.meta: the sources' import.meta.url becomes the bundle's own file URL.
  define: { 'import.meta.url': '__plumbModuleUrl' },
  banner: { js: "const __plumbModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazyChildProcessForCommander],
  // Whitespace and comments out: the file is a third smaller, and pure ASCII
  // (a dependency's comments had the only other characters), which V8 keeps
  // as a one-byte string: reading and hashing it cost several ms more when a
  // single character made it two-byte. Names are kept, so stack traces still
  // name functions; the source map maps lines back. Lines stay short, so the
  // line Node prints with an uncaught error is readable.
  minifyWhitespace: true,
  lineLimit: 160,
  // esbuild's default, stated because bin/code-cache.cjs relies on it: any
  // other character is written as an escape, so the file is pure ASCII.
  charset: 'ascii',
  logLevel: 'warning',
});
// bin/code-cache.cjs reads the bundle as latin1, a plain copy of each byte
// (faster than decoding UTF-8): that is the same text only while every byte is ASCII.
const bundled = readFileSync(join(outdir, 'plumb.cjs'));
const wide = bundled.findIndex((b) => b > 0x7f);
if (wide >= 0) throw new Error(`bundle: plumb.cjs has a non-ASCII byte at offset ${wide}; bin/code-cache.cjs reads it as latin1`);
