// Read-only questions the CLI asks about what exists, answered from the store
// and the kernel, so that the CLI itself never reaches into kernel/.
import { hasEnded } from '../containers/ended.js';
import type { ContainerRecord } from '../../store/model.js';
import { summarizeStore } from './summary.js';
import type { Context } from '../core/context.js';

/** A record as it is now: a running record whose process has ended shows as exited at once (ps, inspect). */
export function liveContainer(c: ContainerRecord): ContainerRecord {
  if (hasEnded(c)) return { ...c, state: 'exited', finishedAt: new Date().toISOString() };
  return c;
}

/** What `plumb system info` shows: the kernel's features, the resolver, and the store's counts. */
export async function systemInfo(ctx: Context) {
  const { probeKernel } = await import('../../kernel/probe.js');
  const { resolverStatus } = await import('../../dns/service.js');
  const data = ctx.store.read();
  return {
    kernel: await probeKernel(),
    resolver: resolverStatus(ctx.paths),
    summary: summarizeStore(Object.values(data.containers).map(liveContainer), Object.values(data.networks)),
  };
}
