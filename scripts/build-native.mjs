#!/usr/bin/env node
// Builds native/ with the project's own node-gyp (npm does not run install
// scripts of dependencies here, and we want the build to be explicit anyway).
// Skips the build when the addon is newer than its sources.
import { spawnSync } from 'node:child_process';
import { statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const output = join(nativeDir, 'build', 'Release', 'plumb_native.node');
const sources = [join(nativeDir, 'binding.gyp'), join(nativeDir, 'src', 'addon.cc')];

const mtime = (file) => statSync(file).mtimeMs;
if (existsSync(output) && sources.every((s) => mtime(s) < mtime(output)) && !process.argv.includes('--force')) {
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
