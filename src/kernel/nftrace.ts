// The kernel's own packet tracing (nf_tables): a table of plumb's own with a
// `meta nftrace set 1` rule at the very start of prerouting and output marks
// the packets to follow, and `nft monitor` reports every chain and rule they
// meet, iptables-nft rules included. The table is removed afterwards, also
// when the command is interrupted (the caller wires signals to stop()).
import type { ChildProcess } from 'node:child_process';
// `nft monitor` runs for the whole trace and is read line by line as it prints: a raw child process, not a run-to-completion program.
import { spawn } from 'node:child_process';
import { inNetnsArgv } from './iptables.js';
import { runIn } from './programs.js';
import type { Netns } from './netns.js';
import { KernelError } from './errors.js';

export interface TraceMatch {
  /** nft match expression selecting the packets to trace, e.g. `ip saddr 10.0.0.2 tcp dport 80`. */
  expr: string;
}

export interface TraceEvent {
  id: string;
  /** The line after "trace id X ". */
  text: string;
}

export interface ArmedTrace {
  readonly table: string;
  /** Every trace line seen so far, in order. */
  readonly events: TraceEvent[];
  /** Removes the tracing table and ends the monitor; safe to call twice. */
  stop(): Promise<void>;
}

export function traceTableName(): string {
  return `plumb_trace_${process.pid}`;
}

export function traceTableText(table: string, m: TraceMatch): string {
  return [
    `table inet ${table} {`,
    '  chain pre { type filter hook prerouting priority -350; policy accept;',
    `    ${m.expr} meta nftrace set 1`,
    '  }',
    '  chain out { type filter hook output priority -350; policy accept;',
    `    ${m.expr} meta nftrace set 1`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts the monitor, waits until it listens (it reports the creation of the table), then arms the table. */
export async function armTrace(ns: Netns, m: TraceMatch, register?: (stop: () => Promise<void>) => void): Promise<ArmedTrace> {
  const table = traceTableName();
  const argv = inNetnsArgv(ns, ['nft', '-a', 'monitor']);
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: TraceEvent[] = [];
  let buffered = '';
  let sawTable: () => void = () => {};
  const tableSeen = new Promise<void>((resolve) => (sawTable = resolve));
  child.stdout!.on('data', (b: Buffer) => {
    buffered += b.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const t = /^trace id (\S+) (.*)$/.exec(line);
      if (t) events.push({ id: t[1]!, text: t[2]!.trim() });
      else if (line.includes(`table inet ${table}`)) sawTable();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runIn(ns, ['nft', 'delete', 'table', 'inet', table], { timeoutMs: 10_000 });
    child.kill('SIGTERM');
    await exited;
  };
  // From here on an interrupt can remove the table, even before arming is done.
  register?.(stop);
  // Add the table until the monitor reports it (it may subscribe a moment after it starts).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await runIn(ns, ['nft', '-f', '-'], { input: traceTableText(table, m), timeoutMs: 10_000 });
    if (r.code !== 0) {
      await stop();
      throw new KernelError(`nft: cannot add the tracing table ${table}: ${r.stderr.trim()}`, 'EIO', 5);
    }
    const seen = await Promise.race([tableSeen.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 300))]);
    if (stopped) {
      // Interrupted while arming: the table may have been added after stop() removed it.
      await runIn(ns, ['nft', 'delete', 'table', 'inet', table], { timeoutMs: 10_000 });
      throw new KernelError('tracing interrupted', 'EINTR', 4);
    }
    if (seen) break;
    await runIn(ns, ['nft', 'delete', 'table', 'inet', table], { timeoutMs: 10_000 });
    if (Date.now() > deadline) {
      await stop();
      throw new KernelError('nft monitor did not start listening within 10 s', 'ETIMEDOUT', 110);
    }
  }
  return { table, events, stop };
}

export interface NftRuleRef {
  family: string;
  table: string;
  chain: string;
  /** 1-based position of the rule in its chain. */
  position: number;
}

/** handle -> position of every rule, from `nft -a list ruleset`, keyed "family table handle". */
export async function nftRulePositions(ns: Netns): Promise<Map<string, NftRuleRef>> {
  const r = await runIn(ns, ['nft', '-a', 'list', 'ruleset'], { timeoutMs: 10_000 });
  const out = new Map<string, NftRuleRef>();
  let family = '';
  let table = '';
  let chain = '';
  let position = 0;
  for (const raw of r.stdout.split('\n')) {
    const line = raw.trim();
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) {
      family = t[1]!;
      table = t[2]!;
      continue;
    }
    const c = /^chain (\S+) \{/.exec(line);
    if (c) {
      chain = c[1]!;
      position = 0;
      continue;
    }
    const h = /# handle (\d+)$/.exec(line);
    if (h && chain && !line.startsWith('type ')) {
      position++;
      out.set(`${family} ${table} ${h[1]}`, { family, table, chain, position });
    }
  }
  return out;
}
