// kill, wait, top, logs, attach: the lifecycle operations on a container that
// change no kernel state of plumb's (so they take the store lock only to
// record an exit).
import { constants as osConstants } from 'node:os';
import { psTable } from '../../kernel/container-exec.js';
import type { ContainerRecord } from '../../store/model.js';
import { findContainer } from '../../store/store.js';
import type { Context } from '../core/context.js';
import { reapExited } from './teardown.js';
import { PlumbError } from '../core/errors.js';
import { parseLogChunk, readLogFrom, tailRecords, type LogRecord } from './logs.js';
import { containerPids, mainAlive, monitorAlive, monitorFiles, signalMain, waitMainExit } from './processes.js';

export function mustFind(ctx: Context, ref: string): ContainerRecord {
  const c = findContainer(ctx.store.read(), ref);
  if (!c) throw new PlumbError(`No such container: ${ref}`);
  return c;
}

/** `KILL`, `SIGKILL`, `9`, `usr1` -> a signal Node can send. */
export function parseSignal(spec: string): NodeJS.Signals | number {
  if (/^\d+$/.test(spec)) {
    const n = Number(spec);
    if (n < 1 || n > 64) throw new PlumbError(`Invalid signal: ${spec}`);
    return n;
  }
  const name = (spec.toUpperCase().startsWith('SIG') ? spec.toUpperCase() : `SIG${spec.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in osConstants.signals)) throw new PlumbError(`Invalid signal: ${spec}`);
  return name;
}

export function killContainer(ctx: Context, ref: string, signal: NodeJS.Signals | number): void {
  const c = mustFind(ctx, ref);
  if (c.state !== 'running' || !mainAlive(c)) throw new PlumbError(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
  signalMain(c, signal);
}

/** Blocks until the container's main process ends; records it (the sandbox goes, as on any exit); returns the status. */
export async function waitContainer(ctx: Context, ref: string): Promise<number> {
  const c = mustFind(ctx, ref);
  if (c.state !== 'running') return c.exitCode ?? 0;
  const code = await waitMainExit(ctx, c);
  await ctx.store.locked(async (data, commit) => {
    await reapExited(ctx, data);
    commit();
  });
  return code;
}

export async function topContainer(ctx: Context, ref: string, psArgs: string[]): Promise<string> {
  const c = mustFind(ctx, ref);
  if (c.state !== 'running' || !mainAlive(c)) throw new PlumbError(`Container ${c.id} is not running`);
  return psTable(containerPids(c), psArgs);
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  write: (r: LogRecord) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes the log's records; with follow, keeps writing new ones until the container's main process ends. */
export async function streamLogs(ctx: Context, ref: string, o: LogOptions): Promise<void> {
  const c = mustFind(ctx, ref);
  const { log, exit } = monitorFiles(ctx, c);
  let { text, offset } = readLogFrom(log, 0);
  let parsed = parseLogChunk(text);
  let records = parsed.records;
  if (o.tail !== undefined) records = tailRecords(records, o.tail);
  for (const r of records) o.write(r);
  if (!o.follow) return;
  let rest = parsed.rest;
  const { existsSync } = await import('node:fs');
  // Ends with the container: once its status is recorded, the last read takes what the monitor flushed before.
  for (let step = 10; ; step = Math.min(step * 2, 100)) {
    const ended = c.state !== 'running' || existsSync(exit) || (!monitorAlive(c) && !mainAlive(c));
    ({ text, offset } = readLogFrom(log, offset));
    if (text) {
      parsed = parseLogChunk(rest + text);
      rest = parsed.rest;
      for (const r of parsed.records) o.write(r);
      step = 10;
    }
    if (ended) return;
    await sleep(step);
  }
}
