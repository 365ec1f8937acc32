#!/usr/bin/env node
// Builds native/ with the project's own node-gyp (npm does not run install
// scripts of dependencies here, and we want the build to be explicit anyway).
// Skips the build when the addon is newer than its sources.
import { spawnSync } from 'node:child_process';
import { statSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const output = join(nativeDir, 'build', 'Release', 'plumb_native.node');
const sources = [join(nativeDir, 'binding.gyp'), join(nativeDir, 'src', 'addon.cc')];

const mtime = (file) => statSync(file).mtimeMs;
const force = process.argv.includes('--force');
// node-gyp rebuild empties native/build: the monitor is built after the addon.
if (existsSync(output) && sources.every((s) => mtime(s) < mtime(output)) && !force) {
  buildMonitor();
  process.exit(0);
}
const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// Use the headers installed with this Node when they are there, so the build
// never needs to download them (machines here reach only package registries).
const args = [nodeGyp, 'rebuild', '--silent'];
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('native addon build failed: install g++, make and python3 (scripts/setup does), then run npm run build:native');
  process.exit(result.status ?? 1);
}
buildMonitor();

/**
 * plumb-monitor (native/monitor/monitor.c), the process that holds each
 * container. Linked statically when the C library allows it: a static binary
 * maps no shared libraries, so each of hundreds of monitors costs less memory
 * (and the same file runs inside a busybox root filesystem).
 */
function buildMonitor() {
  const srcs = ['monitor.c', 'init.c', 'init.h'].map((f) => join(nativeDir, 'monitor', f));
  const out = join(nativeDir, 'build', 'plumb-monitor');
  if (existsSync(out) && srcs.every((src) => mtime(src) < mtime(out)) && !force) return;
  mkdirSync(dirname(out), { recursive: true });
  const base = ['-O2', '-Wall', '-Wextra', '-o', out, ...srcs.filter((f) => f.endsWith('.c'))];
  let r = spawnSync('cc', ['-static', ...base], { stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) r = spawnSync('cc', base, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('plumb-monitor build failed: install a C compiler (build-essential; scripts/setup does)');
    process.exit(r.status ?? 1);
  }
}
