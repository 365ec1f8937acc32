// The write-ahead log of kernel changes (engine/core/intents.ts): one shared log,
// written by the holder of the store lock and emptied after each operation;
// what a writer that died leaves is found by staleIntents, and set aside by
// the next operation rather than overwritten.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Context } from '../../src/engine/core/context.js';
import { intentsDir, SHARED_LOG, staleIntents, withIntent } from '../../src/engine/core/intents.js';
import type { Op } from '../../src/kernel/ops.js';
import { lockFile } from '../../src/store/paths.js';
import { lockIsFree } from '../helpers/lock.js';

let root: string;
let ctx: Context;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'plumb-intents-'));
  ctx = new Context({ root, env: {} });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const op = (name: string): Op => ({ kind: 'link.del', ns: null, name });
const dir = () => intentsDir(ctx.paths);
const shared = () => join(dir(), SHARED_LOG);
// PID 2^22+1 is above pid_max's default ceiling on most systems: no such process.
const DEAD = '4194305 12345';

describe('withIntent', () => {
  it('logs each change while the lock is held, then empties the shared log and keeps the file', async () => {
    await withIntent(ctx, async () => {
      expect(lockIsFree(lockFile(ctx.paths))).toBe(false);
      ctx.journal.runSync(op('a'), () => undefined);
      ctx.journal.runSync(op('b'), () => undefined);
      const lines = readFileSync(shared(), 'utf8').split('\n');
      expect(lines[0]).toMatch(new RegExp(`^# ${process.pid} \\d+$`));
      expect(lines.slice(1, 3).map((l) => JSON.parse(l).name)).toEqual(['a', 'b']);
    });
    expect(readFileSync(shared(), 'utf8')).toBe('');
    expect(lockIsFree(lockFile(ctx.paths))).toBe(true);
    expect(staleIntents(ctx.paths)).toEqual([]);
  });

  it('keeps the log for gc, under its writer, when the rollback failed', async () => {
    await expect(
      withIntent(ctx, async () => {
        ctx.journal.runSync(op('a'), () => undefined);
        throw new Error('boom (and rollback failed: undo of x)');
      }),
    ).rejects.toThrow('boom');
    const kept = readdirSync(dir()).filter((f) => f !== SHARED_LOG);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(new RegExp(`^${process.pid}-\\d+-\\d+\\.jsonl$`));
    // Its writer (this process) still runs: not stale yet.
    expect(staleIntents(ctx.paths)).toEqual([]);
  });

  it('gives a nested operation a log of its own', async () => {
    await withIntent(ctx, async () => {
      ctx.journal.runSync(op('outer'), () => undefined);
      await withIntent(ctx, async () => {
        ctx.journal.runSync(op('inner'), () => undefined);
        const own = readdirSync(dir()).filter((f) => f !== SHARED_LOG);
        expect(own).toHaveLength(1);
        expect(readFileSync(join(dir(), own[0]!), 'utf8')).toBe(`${JSON.stringify(op('inner'))}\n`);
      });
      expect(readFileSync(shared(), 'utf8')).toContain('"outer"');
      expect(readdirSync(dir())).toEqual([SHARED_LOG]);
    });
    expect(readFileSync(shared(), 'utf8')).toBe('');
  });
});

describe('a writer that died holding the lock', () => {
  beforeEach(() => {
    mkdirSync(dir(), { recursive: true });
    writeFileSync(shared(), `# ${DEAD}\n${JSON.stringify(op('veth1'))}\n{"kind":"link.a`);
  });

  it('leaves a log that staleIntents reads, cut-short line and all', () => {
    expect(staleIntents(ctx.paths)).toEqual([{ file: shared(), pid: 4194305, ops: [op('veth1')] }]);
  });

  it('has its log set aside by the next operation, not overwritten', async () => {
    await withIntent(ctx, async () => {
      ctx.journal.runSync(op('mine'), () => undefined);
    });
    const aside = readdirSync(dir()).filter((f) => f !== SHARED_LOG);
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^4194305-12345-\d+\.jsonl$/);
    expect(staleIntents(ctx.paths)).toEqual([{ file: join(dir(), aside[0]!), pid: 4194305, ops: [op('veth1')] }]);
    expect(readFileSync(shared(), 'utf8')).toBe('');
  });
});

it('ignores a shared log whose first write is under way (no owner line yet)', () => {
  mkdirSync(dir(), { recursive: true });
  writeFileSync(shared(), '# 41');
  expect(staleIntents(ctx.paths)).toEqual([]);
});
