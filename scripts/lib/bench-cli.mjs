// Benchmark body for scripts/bench-cli (which makes the lab hosts and the
// private roots). In each tree's lab: a network `bn`, a container `c0`
// published on 8080 (what inspect, ps and port look at) and one container
// per iteration for stop and rm -f. Each iteration runs every command once
// per tree, alternating which tree goes first; set-up steps (run, start) are
// not timed. Then one of each under `strace -f`: programs started.
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, loadAverage, median, percentile, run, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
if (!process.env.BENCH_ID || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-cli, which sets up the lab');
const N = Number(process.env.BENCH_N ?? 15);

const trees = [
  { label: 'this tree', dir: REPO, host: process.env.BENCH_HOST, root: process.env.PLUMB_ROOT },
  ...(process.env.BENCH_BASE
    ? [{ label: `base (${process.env.BENCH_BASE})`, dir: process.env.BENCH_BASE, host: process.env.BENCH_BASE_HOST, root: join(process.env.BENCH_BASE_ROOT, 'plumb') }]
    : []),
];

const envFor = (t) => ({ ...process.env, PLUMB_ROOT: t.root, PLUMB_NETNS_DIR: join(t.root, 'netns-names') });
/** argv of `plumb ARGS` in the tree's lab host, started as users start it (bin/plumb, so its shebang applies). */
const argvFor = (t, args) => ['nsenter', `--net=/run/netns/${t.host}`, join(t.dir, 'bin', 'plumb'), ...args];
const plumb = (t, args) => run(argvFor(t, args), { env: envFor(t) });

/** The timed commands; `before` prepares iteration i untimed. */
const COMMANDS = [
  { name: 'inspect', args: () => ['inspect', 'c0'] },
  { name: 'ps', args: () => ['ps'] },
  { name: 'port', args: () => ['port', 'c0'] },
  { name: 'network connect', args: () => ['network', 'connect', 'bn', 'c0'] },
  { name: 'network disconnect', args: () => ['network', 'disconnect', 'bn', 'c0'] },
  { name: 'stop', before: (t, i) => plumb(t, ['run', '-d', '--name', `s${i}`, 'alpine', 'sleep', '1000']), args: (i) => ['stop', `s${i}`] },
  { name: 'rm -f', before: (t, i) => plumb(t, ['run', '-d', '--name', `r${i}`, 'alpine', 'sleep', '1000']), args: (i) => ['rm', '-f', `r${i}`] },
];

/** Programs one command starts (successful execve after plumb's own node), from strace -f. */
async function programs(t, args) {
  const out = join(process.env.BENCH_ROOT, `strace-${Math.random().toString(16).slice(2)}.txt`);
  const [nsenter, net, ...command] = argvFor(t, args);
  await run([nsenter, net, 'strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', out, ...command], { env: envFor(t) });
  const execs = readFileSync(out, 'utf8').split('\n').filter((l) => /execve\(/.test(l) && / = 0$/.test(l));
  rmSync(out);
  const nodeAt = execs.findIndex((l) => /execve\("[^"]*\/node"/.test(l));
  return execs.slice(nodeAt + 1).map((l) => /execve\("([^"]*)"/.exec(l)?.[1]?.split('/').pop());
}

console.log(`bench-cli: N = ${N}, load average ${loadAverage()} before`);
for (const t of trees) {
  await plumb(t, ['network', 'create', 'bn']);
  await plumb(t, ['run', '-d', '--name', 'c0', '-p', '8080:80', 'alpine', 'sleep', '100000']);
  await plumb(t, ['inspect', 'c0']); // warm the code caches
}
const times = new Map(trees.map((t) => [t, new Map(COMMANDS.map((c) => [c.name, []]))]));
for (let i = 0; i < N; i++) {
  const order = i % 2 ? [...trees].reverse() : trees;
  for (const c of COMMANDS) {
    for (const t of order) {
      await c.before?.(t, i);
      times.get(t).get(c.name).push(await timed(() => plumb(t, c.args(i))));
    }
  }
}
console.log(`load average after: ${loadAverage()}\n`);

const rows = [];
for (const c of COMMANDS) {
  for (const t of trees) {
    const xs = times.get(t).get(c.name);
    rows.push([`${c.name}, ${t.label}`, fmt(median(xs)), fmt(percentile(xs, 90)), fmt(Math.min(...xs))]);
  }
  if (trees.length === 2) {
    const [a, b] = trees.map((t) => median(times.get(t).get(c.name)));
    rows.push(['  this / base', (a / b).toFixed(2), '', '']);
  }
}
table(['whole process, ms', 'median', 'p90', 'min'], rows);

console.log('');
const countRows = [];
for (const t of trees) {
  for (const c of COMMANDS) {
    await c.before?.(t, N);
    const progs = await programs(t, c.args(N));
    countRows.push([`${c.name}, ${t.label}`, progs.length, progs.join(' ') || '-']);
  }
  await plumb(t, ['network', 'disconnect', 'bn', 'c0']).catch(() => {});
}
table(['one command (strace -f)', 'programs', 'which'], countRows);
