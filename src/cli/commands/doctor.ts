// plumb doctor [FROM TO[:PORT[/PROTO]]] and plumb trace FROM TO:PORT[/PROTO]
import type { Command } from 'commander';
import { openContext, out } from '../output.js';

export async function doctor(from: string | undefined, to: string | undefined, o: { format?: string }, cmd: Command): Promise<number> {
  if (from !== undefined && to === undefined) throw new Error('plumb doctor takes no argument (the whole host) or two: FROM TO[:PORT[/PROTO]]');
  checkFormat(o.format);
  const ctx = await openContext(cmd, false, 'plumb doctor');
  try {
    const { Facts } = await import('../../doctor/facts.js');
    const { doctorHost, doctorPath } = await import('../../doctor/walk.js');
    const { formatHop } = await import('../../doctor/types.js');
    const f = new Facts(ctx, ctx.store.read());
    const r = from !== undefined && to !== undefined ? await doctorPath(f, from, to) : await doctorHost(f);
    if (o.format === 'json') out(JSON.stringify(r, null, 2));
    else {
      if (r.from) out(`path ${r.from} -> ${r.to}`);
      for (const h of r.hops) out(formatHop(h));
      const bad = r.hops.filter((h) => !h.ok).length;
      out(bad ? `${bad} problem(s) found` : 'healthy: every hop checked is ok');
    }
    return r.healthy ? 0 : 1;
  } finally {
    ctx.close();
  }
}

function checkFormat(format: string | undefined): void {
  if (format !== undefined && format !== 'json') throw new Error(`unknown --format ${format}: use --format json, or no --format for text`);
}

export async function trace(from: string, to: string, o: { format?: string; wait?: string }, cmd: Command): Promise<number> {
  checkFormat(o.format);
  const ctx = await openContext(cmd, false, 'plumb trace');
  const stops: Array<() => Promise<void>> = [];
  const onSignal = (sig: NodeJS.Signals) => {
    void Promise.all(stops.map((s) => s())).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { Facts } = await import('../../doctor/facts.js');
    const { tracePath } = await import('../../doctor/trace.js');
    const waitS = Number(o.wait ?? '10');
    if (!Number.isFinite(waitS) || waitS <= 0) throw new Error(`invalid --wait ${o.wait}: give seconds, e.g. --wait 10`);
    const f = new Facts(ctx, ctx.store.read());
    const r = await tracePath(f, from, to, {
      waitMs: waitS * 1000,
      onStop: (stop) => stops.push(stop),
      onArmed: (table, external) => {
        if (o.format !== 'json') out(`tracing with nft table inet ${table}${external ? `: send a packet from ${from} now (waiting ${waitS} s)` : ''}`);
      },
    });
    if (o.format === 'json') out(JSON.stringify(r, null, 2));
    else {
      out(`packet ${r.from} -> ${r.to}${r.packet ? `: ${r.packet}` : ''}`);
      for (const s of r.steps) out(`  ${s.table.padEnd(6)} ${s.chain.padEnd(24)} ${(s.rule ?? '').padEnd(0)}  => ${s.verdict}`);
      out(`verdict: ${r.verdict}`);
    }
    return r.accepted ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ctx.close();
  }
}
