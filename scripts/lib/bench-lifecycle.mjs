// Benchmark body for scripts/bench-lifecycle (which makes the lab and runs
// this inside it, with a private PLUMB_ROOT). See that script for what it measures.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, loadAverage, median, now, percentile, run, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
const PLUMB = join(REPO, 'bin', 'plumb');
if (!process.env.BENCH_ID || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-lifecycle, which sets up the lab');
const N = Number(process.env.BENCH_N ?? 200);
const SERIES = Number(process.env.BENCH_SERIES ?? 20);
const plumb = (args) => run([PLUMB, ...args]);

/** Resident and proportional memory (kB) of a process: RSS counts shared pages once per process, Pss splits them. */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  let pss = 0;
  try {
    pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    pss = rss;
  }
  return { rss, pss };
}

/** PIDs of the plumb-monitor processes of this lab's root. */
function monitors() {
  const pids = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('plumb-monitor') && argv[1] === 'run' && argv.some((a) => a.startsWith(process.env.PLUMB_ROOT))) pids.push(Number(e));
    } catch {
      /* ended */
    }
  }
  return pids;
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

async function startSeries(label, argsFor) {
  const up = [];
  const down = [];
  for (let i = 0; i < SERIES; i++) up.push(await timed(() => plumb(['run', '-d', '--name', `s${i}`, ...argsFor(i)])));
  for (let i = 0; i < SERIES; i++) down.push(await timed(() => plumb(['rm', '-f', `s${i}`])));
  return [label, fmt(median(up)), fmt(percentile(up, 90)), fmt(median(down)), fmt(percentile(down, 90))];
}

console.log(`bench-lifecycle: ${new Date().toISOString()}, load ${loadAverage()}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm).length} CPUs`);
await plumb(['run', '-d', '--name', 'warmup', 'alpine']);
await plumb(['rm', '-f', 'warmup']);

const rows = [];
rows.push(await startSeries('run -d alpine (holder process)', () => ['alpine']));
rows.push(await startSeries('run -d alpine sleep 3600 (COMMAND)', () => ['alpine', 'sleep', '3600']));
rows.push(await startSeries('run -dit alpine ash (shell on a pty)', () => ['-it', 'alpine', 'ash']));
rows.push(await startSeries('run -d debian sleep 3600 (host filesystem)', () => ['debian', 'sleep', '3600']));
console.log(`\nwhole plumb processes, ${SERIES} containers each, ms:`);
table(['', 'run median', 'run p90', 'rm -f median', 'rm -f p90'], rows);

// N shells up at once.
const t0 = now();
const startTimes = [];
for (let i = 0; i < N; i++) startTimes.push(await timed(() => plumb(['run', '-dit', '--name', `a${i}`, 'alpine', 'ash'])));
const allUp = now() - t0;
const mons = monitors();
const monMem = mons.map(memory);
const mains = [];
for (let i = 0; i < N; i++) mains.push(Number((await plumb(['inspect', '-f', '{{.State.Pid}}', `a${i}`])).trim()));
const alive = mains.filter((pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ash';
  } catch {
    return false;
  }
}).length;
const shellMem = mains.map(memory);
const hostname = (await plumb(['exec', `a${N - 1}`, 'hostname'])).trim();
const t1 = now();
for (let i = 0; i < N; i++) await plumb(['rm', '-f', `a${i}`]);
const allDown = now() - t1;
const left = monitors().length;

console.log(`\n${N} containers with a busybox shell each (run -dit --name aN alpine ash):`);
table(
  ['', 'value'],
  [
    ['started one after another, total', `${fmt(allUp / 1000)} s`],
    ['run -dit, median / p90 / last', `${fmt(median(startTimes))} / ${fmt(percentile(startTimes, 90))} / ${fmt(startTimes.at(-1))} ms`],
    ['monitors found / shells alive (ash) at the end', `${mons.length} / ${alive}`],
    ['plumb-monitor RSS, median / max', `${fmt(median(monMem.map((m) => m.rss)))} / ${Math.max(...monMem.map((m) => m.rss))} kB`],
    ['plumb-monitor PSS, median (shared pages split)', `${fmt(median(monMem.map((m) => m.pss)))} kB`],
    ['all monitors, PSS total', `${fmt(sum(monMem.map((m) => m.pss)) / 1024)} MB`],
    ['busybox ash RSS / PSS, median', `${fmt(median(shellMem.map((m) => m.rss)))} / ${fmt(median(shellMem.map((m) => m.pss)))} kB`],
    [`exec a${N - 1} hostname`, hostname],
    ['rm -f of all, total', `${fmt(allDown / 1000)} s`],
    ['monitors left after rm -f', String(left)],
  ],
);

// The holder of a container without COMMAND.
await plumb(['run', '-d', '--name', 'holder', 'alpine']);
const holderPid = Number((await plumb(['inspect', '-f', '{{.State.Pid}}', 'holder'])).trim());
const holder = memory(holderPid);
const holderMon = memory(monitors()[0]);
await plumb(['rm', '-f', 'holder']);
console.log(`\nholder process (plumb-monitor pause) RSS / PSS: ${holder.rss} / ${holder.pss} kB; its monitor: ${holderMon.rss} / ${holderMon.pss} kB`);
if (left) process.exitCode = 1;
