// Benchmark body for scripts/bench-scale (which makes the lab and runs this
// inside it, with PLUMB_ROOT on disk and PLUMB_RUN_DIR on a tmpfs).
// Sandboxes live on one user network ("scale", a /16: a bridge holds at most
// 1,023 ports). Sizes grow 10 -> 100 -> 1,000; at each, `run -d` + `rm -f` of
// one more sandbox is timed as whole processes and in-process, interleaved.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, loadAverage, median, now, run, runRequest, table } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
const PLUMB = join(REPO, 'bin', 'plumb');
const N = Number(process.env.BENCH_N ?? 15);
const MAX = Number(process.env.BENCH_SCALE_MAX ?? 1000);
const SIZES = [10, 100, 1000].filter((s) => s <= MAX);
const NET = 'scale';
if (!process.env.BENCH_ID || !process.env.PLUMB_RUN_DIR) throw new Error('run scripts/bench-scale, which sets up the lab');

const { Context } = await import('../../dist/engine/core/context.js');
const { createAndStart, removeContainers } = await import('../../dist/engine/containers/lifecycle.js');
const { Transaction } = await import('../../dist/engine/core/transaction.js');

const plumb = (args) => run([PLUMB, ...args]);

/** Where the engine's time goes (BENCH_BREAKDOWN=1): kernel calls by kind, transaction steps, store commits. */
const spent = new Map();
const add = (k, ms) => spent.set(k, (spent.get(k) ?? 0) + ms);
if (process.env.BENCH_BREAKDOWN) {
  const { Journal } = await import('../../dist/kernel/ops.js');
  const { Store } = await import('../../dist/store/store.js');
  const wrap = (proto, name, key) => {
    const orig = proto[name];
    proto[name] = function (...args) {
      const t = now();
      const r = orig.apply(this, args);
      if (r && typeof r.then === 'function') return r.finally(() => add(key(args), now() - t));
      add(key(args), now() - t);
      return r;
    };
  };
  wrap(Journal.prototype, 'runSync', (a) => `kernel ${a[0].kind}`);
  wrap(Journal.prototype, 'run', (a) => `kernel ${a[0].kind}`);
  wrap(Store.prototype, 'write', () => 'store commit');
  wrap(Store.prototype, 'loadForWrite', () => 'store load');
}

/** Time each container's main process took to start (holder + plumb-monitor), summed. */
let processMs = 0;
const origStep = Transaction.prototype.step;
Transaction.prototype.step = function (step, body, undo) {
  if (step !== 'start process') return origStep.call(this, step, body, undo);
  return origStep.call(this, step, async () => {
    const t = now();
    try {
      return await body();
    } finally {
      processMs += now() - t;
    }
  }, undo);
};

const request = (name) => runRequest(name, NET);

/** One Context per operation, as each CLI process has. */
async function withContext(fn) {
  const ctx = new Context({ env: process.env });
  try {
    return await fn(ctx);
  } finally {
    ctx.close();
  }
}
const engineRun = (name) => withContext((ctx) => createAndStart(ctx, request(name)));
async function engineRm(names) {
  const r = await withContext((ctx) => removeContainers(ctx, names, true));
  if (r.errors.length) throw new Error(r.errors.slice(0, 3).join('; '));
}

async function timed(fn) {
  const t = now();
  await fn();
  return now() - t;
}

/** `run -d` + `rm -f` of one more sandbox: whole process and in-process, alternated round by round. */
async function probe() {
  const r = { procRun: [], procRm: [], engRun: [], engRm: [] };
  for (let i = 0; i < N; i++) {
    r.procRun.push(await timed(() => plumb(['run', '-d', '--network', NET, '--name', `probe${i}`, 'alpine'])));
    r.procRm.push(await timed(() => plumb(['rm', '-f', `probe${i}`])));
    r.engRun.push(await timed(() => engineRun(`eprobe${i}`)));
    r.engRm.push(await timed(() => engineRm([`eprobe${i}`])));
  }
  return r;
}

let existing = 0;
async function growTo(n) {
  for (; existing < n; existing++) await engineRun(`s${existing}`);
}

/** What the lab host and plumb's directories hold that a sandbox would have made. */
async function leftovers() {
  const links = (await run(['ip', '-o', 'link', 'show'])).split('\n').filter((l) => /veth|@if/.test(l)).length;
  const bridgePorts = (await run(['ip', '-o', 'link', 'show', 'master', `br-${netId.slice(0, 12)}`]).catch(() => '')).split('\n').filter(Boolean).length;
  const nsDir = join(process.env.PLUMB_RUN_DIR, 'netns');
  // .mount-point marks the directory's own bind mount (kernel/netns.ts), not a sandbox.
  const namespaces = existsSync(nsDir) ? readdirSync(nsDir).filter((f) => !f.startsWith('.')).length : 0;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(process.env.BENCH_ROOT) && /nsfs|proc/.test(l)).length;
  const records = readdirSync(join(process.env.PLUMB_ROOT, 'lib', 'records')).filter((f) => f.endsWith('.json')).length;
  const alloc = readFileSync(join(process.env.PLUMB_ROOT, 'lib', 'networks', `${netId}.allocated`), 'utf8');
  const { loadAllocations } = await import('../../dist/store/allocations.js');
  const addresses = Object.keys(loadAllocations(alloc).map).length;
  return { links, bridgePorts, namespaces, mounts, records, addresses };
}

function memoryKb(pid) {
  try {
    const pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { pss, rss };
  } catch {
    return { pss: 0, rss: 0 };
  }
}

const loadBefore = loadAverage();
await plumb(['network', 'create', '--subnet', '172.30.0.0/16', NET]);
const netId = (await plumb(['network', 'inspect', '-f', '{{.Id}}', NET])).trim();

const growth = [];
let thousand;
for (const size of SIZES) {
  if (size === 1000) {
    // (b) from none to a thousand through the engine, timed; the probes then run among them.
    await engineRm(Array.from({ length: existing }, (_, i) => `s${i}`));
    existing = 0;
    processMs = 0;
    const up = await timed(() => growTo(1000));
    thousand = { up, processMs };
  } else {
    await growTo(size);
  }
  growth.push({ size, ...(await probe()) });
}

const rows = growth.map((g) => [String(g.size), fmt(median(g.procRun)), fmt(median(g.procRm)), fmt(median(g.engRun)), fmt(median(g.engRm))]);
console.log(`(a) one more sandbox on a network holding N: run -d / rm -f, median of ${N} (whole process and in-process interleaved), ms; ${process.env.BENCH_CPUS ?? '?'} CPUs, load ${loadBefore} before`);
table(['N existing', 'run -d (process)', 'rm -f (process)', 'run (engine)', 'rm (engine)'], rows);
const spread = (key) => {
  const m = growth.map((g) => median(g[key]));
  return ((Math.max(...m) / Math.min(...m) - 1) * 100).toFixed(0);
};
console.log(`    growth from the smallest to the largest median: run -d process +${spread('procRun')} %, engine run +${spread('engRun')} %, rm -f process +${spread('procRm')} %, engine rm +${spread('engRm')} % (target: within 20 %)`);

if (thousand) {
  // (c) whole commands at a thousand.
  const cmd = async (args) => {
    const xs = [];
    for (let i = 0; i < 5; i++) xs.push(await timed(() => plumb(args)));
    return median(xs);
  };
  const ps = await cmd(['ps', '-q']);
  const inspect = await cmd(['network', 'inspect', NET]);
  const check = await cmd(['system', 'check']);
  // Memory of what every sandbox without COMMAND runs: its holder and the holder's monitor.
  const ctx = new Context({ env: process.env });
  const data = ctx.store.snapshot();
  const mem = Object.values(data.containers).map((c) => ({ holder: memoryKb(c.pid), monitor: memoryKb(c.monitorPid) }));
  ctx.close();
  const sum = (f) => mem.reduce((a, m) => a + f(m), 0);
  const t = now();
  await engineRm(Array.from({ length: 1000 }, (_, i) => `s${i}`));
  const down = now() - t;
  existing = 0;
  // The kernel destroys a namespace, and the veth whose peer it held, in a work
  // queue after its last reference goes: what is still there right after the
  // rm is counted, then what remains once that has had 10 s to run.
  const leftNow = await leftovers();
  let left = leftNow;
  for (const deadline = now() + 10_000; Object.values(left).some((v) => v !== 0) && now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 100));
    left = await leftovers();
  }
  console.log('');
  console.log('(b) 1,000 sandboxes on one user network, through the engine in-process');
  table(
    ['what', 'value', 'target'],
    [
      ['made, one after another', `${fmt(thousand.up)} ms (${fmt(thousand.up / 1000)} ms each)`, '<= 5000 ms'],
      ['  of which starting holder + plumb-monitor', `${fmt(thousand.processMs)} ms (${fmt(thousand.processMs / 1000)} ms each)`, ''],
      ['all removed (one rm -f of 1,000)', `${fmt(down)} ms (${fmt(down / 1000)} ms each)`, '<= 3000 ms'],
      ['right after removal: veths / bridge ports / namespace files / nsfs mounts', `${leftNow.links} / ${leftNow.bridgePorts} / ${leftNow.namespaces} / ${leftNow.mounts}`, ''],
      ['left 10 s later: veths / bridge ports / namespace files / nsfs mounts', `${left.links} / ${left.bridgePorts} / ${left.namespaces} / ${left.mounts}`, '0 each'],
      ['left in the store: records / addresses handed out', `${left.records} / ${left.addresses}`, '0 each'],
      ['holders + monitors at 1,000: PSS (RSS)', `${fmt(sum((m) => m.holder.pss + m.monitor.pss) / 1024)} MB (${fmt(sum((m) => m.holder.rss + m.monitor.rss) / 1024)} MB)`, ''],
      ['  per sandbox, holder / monitor PSS', `${fmt(sum((m) => m.holder.pss) / mem.length)} / ${fmt(sum((m) => m.monitor.pss) / mem.length)} kB`, ''],
    ],
  );
  console.log('');
  console.log('(c) whole commands with 1,000 sandboxes, median of 5');
  table(
    ['command', 'ms', 'target'],
    [
      ['plumb ps -q', fmt(ps), '< 1000'],
      [`plumb network inspect ${NET}`, fmt(inspect), '< 1000'],
      ['plumb system check', fmt(check), '< 1000'],
    ],
  );
  if (Object.values(left).some((v) => v !== 0)) {
    console.error('bench-scale: something was left after removing every sandbox');
    process.exitCode = 1;
  }
}
if (spent.size) {
  console.log('');
  table(['engine time by kind (all engine operations of the run)', 'ms'], [...spent].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, fmt(v)]));
}
console.log(`\nload average after: ${loadAverage()}`);
