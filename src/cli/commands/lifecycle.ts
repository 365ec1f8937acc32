// plumb attach, logs, wait, kill, top
import type { Command } from 'commander';
import { PlumbError } from '../../engine/core/errors.js';
import { killContainer, mustFind, parseSignal, streamLogs, topContainer, waitContainer } from '../../engine/containers/process-ops.js';
import { mainAlive, monitorFiles, waitMainExit } from '../../engine/containers/processes.js';
import { AttachSession } from '../attach-session.js';
import { openContext, out } from '../output.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../parse/detach-keys.js';

export async function attach(ref: string, o: { detachKeys?: string; stdin: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb attach');
  try {
    const c = mustFind(ctx, ref);
    if (c.state !== 'running' || !mainAlive(c)) throw new PlumbError('You cannot attach to a stopped container, start it first');
    let keys: number[];
    try {
      keys = parseDetachKeys(o.detachKeys ?? DEFAULT_DETACH_KEYS);
    } catch (err) {
      throw new PlumbError((err as Error).message);
    }
    const tty = !!c.tty;
    if (tty && o.stdin && c.openStdin && !process.stdin.isTTY) throw new PlumbError('the input device is not a TTY');
    const session = await AttachSession.open(monitorFiles(ctx, c).sock, {
      tty,
      stdin: o.stdin && !!c.openStdin,
      detachKeys: keys,
      onSignal: (sig) => {
        try {
          process.kill(c.pid!, sig);
        } catch {
          /* already gone */
        }
      },
    });
    session.start();
    if ((await session.done) === 'detached') return 0;
    // Docker's attach ends with the container's exit status.
    return await waitMainExit(ctx, c);
  } finally {
    ctx.close();
  }
}

export async function logs(ref: string, o: { follow?: boolean; tail: string; timestamps?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb logs');
  try {
    let tail: number | undefined;
    if (o.tail !== 'all') {
      if (!/^-?\d+$/.test(o.tail)) throw new PlumbError(`invalid value for --tail: ${o.tail} (a number of lines, or all)`);
      tail = Number(o.tail) < 0 ? undefined : Number(o.tail);
    }
    let lineStart = true;
    await streamLogs(ctx, ref, {
      follow: !!o.follow,
      tail,
      write: (r) => {
        const text = o.timestamps && lineStart ? `${r.time} ${r.text}` : r.text;
        lineStart = r.text.endsWith('\n');
        (r.stream === 'stderr' ? process.stderr : process.stdout).write(text);
      },
    });
    return 0;
  } finally {
    ctx.close();
  }
}

export async function wait(refs: string[], _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb wait');
  try {
    let failed = 0;
    for (const ref of refs) {
      try {
        out(String(await waitContainer(ctx, ref)));
      } catch (err) {
        process.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
        failed = 1;
      }
    }
    return failed;
  } finally {
    ctx.close();
  }
}

export async function kill(refs: string[], o: { signal: string }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb kill');
  try {
    const signal = parseSignal(o.signal);
    let failed = 0;
    for (const ref of refs) {
      try {
        killContainer(ctx, ref, signal);
        out(ref);
      } catch (err) {
        process.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
        failed = 1;
      }
    }
    return failed;
  } finally {
    ctx.close();
  }
}

export async function top(ref: string, psArgs: string[], _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb top');
  try {
    process.stdout.write(await topContainer(ctx, ref, psArgs));
    return 0;
  } finally {
    ctx.close();
  }
}
