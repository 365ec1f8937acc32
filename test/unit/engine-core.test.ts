// The engine's two safety nets: transactions that undo in reverse on failure,
// and the store lock that serialises plumb processes (and is free again when its holder dies).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from '../../src/engine/core/transaction.js';
import { StoreLock } from '../../src/kernel/lock.js';
import { Store } from '../../src/store/store.js';
import { lockIsFree } from '../helpers/lock.js';

describe('Transaction', () => {
  it('runs undos in reverse order when a later step fails, and rethrows', async () => {
    const log: string[] = [];
    await expect(
      Transaction.run('t', async (tx) => {
        await tx.step('a', () => log.push('do a'), () => void log.push('undo a'));
        await tx.step('b', () => log.push('do b'), () => void log.push('undo b'));
        await tx.step('c', () => {
          throw new Error('boom');
        }, () => void log.push('undo c'));
      }),
    ).rejects.toThrow('boom');
    expect(log).toEqual(['do a', 'do b', 'undo b', 'undo a']);
  });

  it('reports a failing undo in the error and still runs the others', async () => {
    const log: string[] = [];
    const err = await Transaction.run('t', async (tx) => {
      await tx.step('a', () => 1, () => void log.push('undo a'));
      await tx.step('b', () => 2, () => {
        throw new Error('stuck');
      });
      throw new Error('late failure');
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/late failure.*undo of b: stuck.*plumb system gc/);
    expect(log).toEqual(['undo a']);
  });

  it('keeps what succeeded when nothing fails', async () => {
    const log: string[] = [];
    const out = await Transaction.run('t', async (tx) => tx.step('a', () => 42, () => void log.push('undo')));
    expect(out).toBe(42);
    expect(log).toEqual([]);
  });

  it('fails on purpose at the step named by PLUMB_FAIL_AT_STEP', async () => {
    process.env.PLUMB_FAIL_AT_STEP = '2';
    try {
      const log: string[] = [];
      await expect(
        Transaction.run('t', async (tx) => {
          await tx.step('a', () => 1, () => void log.push('undo a'));
          await tx.step('b', () => log.push('ran b'));
        }),
      ).rejects.toThrow(/injected failure at step 2 \(b\)/);
      expect(log).toEqual(['undo a']);
    } finally {
      delete process.env.PLUMB_FAIL_AT_STEP;
    }
  });
});

describe('StoreLock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive while held and free after release, and names its holder to whoever waits', () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-lock-'));
    const a = new StoreLock(join(dir, 'lock'));
    const b = new StoreLock(join(dir, 'lock'));
    a.acquire();
    expect(() => b.acquire(50)).toThrow(new RegExp(`another plumb process holds the lock .*\\(pid and start time: ${process.pid} \\d+\\)`));
    a.release();
    b.acquire(50);
    b.release();
    expect(lockIsFree(join(dir, 'lock'))).toBe(true);
  });

  it('nests: only the outermost release frees it', () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-lock-'));
    const a = new StoreLock(join(dir, 'lock'));
    a.acquire();
    a.acquire();
    a.release();
    expect(lockIsFree(join(dir, 'lock'))).toBe(false);
    a.release();
    expect(lockIsFree(join(dir, 'lock'))).toBe(true);
  });

  it('is free again when its holder is killed, whatever the file still says', async () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-lock-'));
    const path = join(dir, 'lock');
    // A holder in another process: one shell that takes the lock on its fd 9 with flock(1), then
    // becomes `sleep` (same PID, same open file), so killing that PID is killing the holder.
    const holder = spawn('sh', ['-c', 'exec 9>>"$0" && flock 9 && echo held && exec sleep 60', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      await new Promise((resolve) => holder.stdout!.once('data', resolve));
      expect(lockIsFree(path)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    expect(lockIsFree(path)).toBe(true);
  });

  it('takes a lock file left with a dead process in it', () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-lock-'));
    // PID 2^22+1 is above pid_max's default ceiling on most systems: no such process.
    writeFileSync(join(dir, 'lock'), '4194305 12345\n');
    const lock = new StoreLock(join(dir, 'lock'));
    lock.acquire(200);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    lock.release();
  });
});

describe('Store', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes atomically and reads back what was committed; a dry run writes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-store-'));
    const paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
    const store = new Store(paths);
    await store.locked(async (data, commit) => {
      data.sysctls.push({ key: 'net.ipv4.ip_forward', original: '0' });
      commit();
    });
    expect(store.read().sysctls).toEqual([{ key: 'net.ipv4.ip_forward', original: '0' }]);
    const dry = new Store(paths, true);
    await dry.locked(async (data, commit) => {
      data.sysctls = [];
      commit();
    });
    expect(store.read().sysctls).toHaveLength(1);
  });

  it('replaces the store by rename, recycling the version before last as the next temporary file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-store-'));
    const paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
    const store = new Store(paths);
    const file = join(paths.state, 'store.json');
    const inodes: number[] = [];
    for (const key of ['a', 'b', 'c', 'd']) {
      await store.locked(async (data, commit) => {
        data.sysctls.push({ key, original: '0' });
        commit();
      });
      inodes.push(statSync(file).ino);
    }
    expect(store.read().sysctls.map((s) => s.key)).toEqual(['a', 'b', 'c', 'd']);
    // Two files take turns: no new file after the second write.
    expect(inodes[2]).toBe(inodes[0]);
    expect(inodes[3]).toBe(inodes[1]);
    expect(readdirSync(paths.state).sort()).toEqual(['store.json', 'store.json.spare']);
    expect(JSON.parse(readFileSync(join(paths.state, 'store.json.spare'), 'utf8')).sysctls).toHaveLength(3);
  });

  it('writes on after a write cut short between its steps', async () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-store-'));
    const paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
    const store = new Store(paths);
    await store.locked(async (data, commit) => commit());
    // As if killed after linking the old version and before the renames.
    writeFileSync(join(paths.state, 'store.json.old'), 'stale');
    await store.locked(async (data, commit) => {
      data.sysctls.push({ key: 'k', original: '1' });
      commit();
    });
    expect(store.read().sysctls).toEqual([{ key: 'k', original: '1' }]);
    expect(readdirSync(paths.state).sort()).toEqual(['store.json', 'store.json.spare']);
  });

  it('is written only under its lock, and calls a store it cannot parse unreadable', () => {
    dir = mkdtempSync(join(tmpdir(), 'plumb-store-'));
    const paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
    const store = new Store(paths);
    expect(() => store.write(store.read())).toThrow(/only with its lock held/);
    mkdirSync(paths.state, { recursive: true });
    writeFileSync(join(paths.state, 'store.json'), '{"version":1,');
    expect(() => store.read()).toThrow(/is unreadable/);
  });
});
