// bin/code-cache.cjs: the V8 code cache bin/plumb loads the bundle through.
// Each load runs in a child node process, as bin/plumb does, because the cache
// is written when the process exits.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const LOADER = resolve('bin/code-cache.cjs');

let dir: string;
let bundle: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-code-cache-'));
  bundle = join(dir, 'bundle.cjs');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Loads the bundle in a fresh process; returns what became of the cache and what the bundle answered. */
function load(word = 'run'): { cache: string; answer: string } {
  const code =
    `let cache; const m = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(word)}, (s) => (cache = s)); ` +
    `process.stdout.write(JSON.stringify({ cache, answer: m.answer(__filename) }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { cache: string; answer: string };
}

const source = (answer: string) => `exports.answer = () => ${JSON.stringify(answer)} + ':' + require('node:path').basename(__filename);\n`;

describe('loadBundle', () => {
  it('compiles without a cache the first time, leaves one at exit, and uses it the next time', () => {
    writeFileSync(bundle, source('one'));
    expect(load()).toEqual({ cache: 'absent', answer: 'one:bundle.cjs' });
    expect(existsSync(`${bundle}.run.v8cache`)).toBe(true);
    expect(load()).toEqual({ cache: 'used', answer: 'one:bundle.cjs' });
    // One cache per command word.
    expect(load('ps').cache).toBe('absent');
    expect(load('ps').cache).toBe('used');
    expect(readdirSync(dir).sort()).toEqual(['bundle.cjs', 'bundle.cjs.ps.v8cache', 'bundle.cjs.run.v8cache']);
  });

  it('ignores the cache of a rebuilt bundle, even one of the same length, and runs the new code', () => {
    writeFileSync(bundle, source('one'));
    load();
    writeFileSync(bundle, source('two'));
    // A rebuild within the same millisecond still changes nothing but the content: make the mtime differ as a rebuild's would.
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
    expect(load()).toEqual({ cache: 'stale', answer: 'two:bundle.cjs' });
    expect(load()).toEqual({ cache: 'used', answer: 'two:bundle.cjs' });
  });

  it('survives a cache V8 cannot use, and replaces it', () => {
    writeFileSync(bundle, source('one'));
    load();
    const file = `${bundle}.run.v8cache`;
    const cache = readFileSync(file);
    const stampEnd = cache.indexOf(10) + 1;
    writeFileSync(file, Buffer.concat([cache.subarray(0, stampEnd), Buffer.alloc(cache.length - stampEnd, 0x5a)]));
    expect(load()).toEqual({ cache: 'rejected', answer: 'one:bundle.cjs' });
    expect(load().cache).toBe('used');
  });

  it('runs when the cache cannot be written, and leaves no temporary file', () => {
    writeFileSync(bundle, source('one'));
    mkdirSync(`${bundle}.run.v8cache`);
    mkdirSync(join(`${bundle}.run.v8cache`, 'keep'));
    expect(load()).toEqual({ cache: 'absent', answer: 'one:bundle.cjs' });
    expect(readdirSync(dir).sort()).toEqual(['bundle.cjs', 'bundle.cjs.run.v8cache']);
  });
});
