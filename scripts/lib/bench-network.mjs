// Benchmark body for scripts/bench-network (which makes the lab hosts and the
// private roots). Rows:
//   network create   `plumb network create bnI` (a bridge, its address, its
//                    firewall rules), whole process
//   network rm       `plumb network rm bnI`, whole process
// With BENCH_BASE, the same for that tree; iteration i runs the four commands
// in the order (this create, base create, this rm, base rm) or the reverse
// pair order, alternating, so load drifts hit both alike.
// Then one create and one rm of each tree under `strace -f`, counted:
// processes started (successful execve after plumb's own node), iptables-restore
// and iptables-save runs, netlink requests sent by plumb itself (rtnetlink,
// nf_tables) and by the programs it started, sysctl writes, store renames.
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, loadAverage, median, nodeStartupLine, percentile, run, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
if (!process.env.BENCH_ID || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-network, which sets up the lab');
const N = Number(process.env.BENCH_N ?? 15);
const EXISTING = Number(process.env.BENCH_EXISTING ?? 0);

const trees = [
  { label: 'this tree', dir: REPO, host: process.env.BENCH_HOST, root: process.env.PLUMB_ROOT },
  ...(process.env.BENCH_BASE
    ? [{ label: `base (${process.env.BENCH_BASE})`, dir: process.env.BENCH_BASE, host: process.env.BENCH_BASE_HOST, root: join(process.env.BENCH_BASE_ROOT, 'plumb') }]
    : []),
];

function envFor(t) {
  return { ...process.env, PLUMB_ROOT: t.root, PLUMB_NETNS_DIR: join(t.root, 'netns-names') };
}

/** argv of `plumb ARGS` in the tree's lab host, started as users start it (bin/plumb, so its shebang applies). */
const argvFor = (t, args) => ['nsenter', `--net=/run/netns/${t.host}`, join(t.dir, 'bin', 'plumb'), ...args];
const plumb = (t, args) => run(argvFor(t, args), { env: envFor(t) });

const cpuFile = join(process.env.BENCH_ROOT, 'cpu.txt');
/** Whether `perf stat` can count task-clock here (perf installed, perf_event_paranoid allows it). */
const perfWorks = await run(['perf', 'stat', '-x,', '-e', 'task-clock', '-o', cpuFile, '--', 'true']).then(() => true, () => false);
/**
 * Wall milliseconds of `plumb ARGS`, and the CPU milliseconds (task-clock) of
 * it and every program it started, from `perf stat` when it works: on a
 * loaded machine CPU time moves far less than wall time.
 */
async function measured(t, args) {
  if (!perfWorks) return { wall: await timed(() => plumb(t, args)), cpu: NaN };
  const wall = await timed(() => run(['perf', 'stat', '-x,', '-e', 'task-clock', '-o', cpuFile, '--', ...argvFor(t, args)], { env: envFor(t) }));
  const line = readFileSync(cpuFile, 'utf8').split('\n').find((l) => l.includes('task-clock'));
  return { wall, cpu: Number(line?.split(',')[0]) };
}

/** Counts from `strace -f` of one command (see the header). */
async function counted(t, args) {
  const out = join(process.env.BENCH_ROOT, `strace-${Math.random().toString(16).slice(2)}.txt`);
  // strace runs inside the lab host too: it names a netlink socket's protocol by asking that namespace.
  const [nsenter, net, ...command] = argvFor(t, args);
  await run([nsenter, net, 'strace', '-f', '-qq', '-yy', '-s', '200', '-e', 'trace=execve,sendto,sendmsg,openat,rename', '-e', 'signal=none', '-o', out, ...command], { env: envFor(t) });
  const lines = readFileSync(out, 'utf8').split('\n');
  rmSync(out);
  const execs = lines.filter((l) => /execve\(/.test(l) && / = 0$/.test(l));
  // The first successful execs are bin/plumb and env's node: plumb's own process is the one that runs node.
  const nodeLine = execs.find((l) => /execve\("[^"]*\/node"/.test(l));
  const mainPid = nodeLine?.split(' ')[0];
  const after = execs.slice(execs.indexOf(nodeLine) + 1);
  const sends = lines.filter((l) => /^\d+ +(sendto|sendmsg)\(\d+<NETLINK:\[/.test(l));
  const bySelf = sends.filter((l) => l.split(' ')[0] === mainPid);
  const proto = (ls, p) => ls.filter((l) => l.includes(`<NETLINK:[${p}`)).length;
  return {
    processes: after.length,
    restores: after.filter((l) => /iptables-restore"/.test(l)).length,
    saves: after.filter((l) => /iptables-save"/.test(l)).length,
    rtnl: proto(bySelf, 'ROUTE'),
    nfSelf: proto(bySelf, 'NETFILTER'),
    nfChildren: proto(sends.filter((l) => l.split(' ')[0] !== mainPid), 'NETFILTER'),
    sysctlWrites: lines.filter((l) => /openat\(.*"\/proc\/sys\/[^"]*", O_WRONLY/.test(l) && !/= -1/.test(l)).length,
    storeWrites: lines.filter((l) => /^\d+ +rename\(.*store\.json"/.test(l)).length,
  };
}

console.log(`bench-network: N = ${N}, ${process.env.BENCH_CPUS ?? '?'} CPUs, ${EXISTING} other networks on the host, load average ${loadAverage()} before`);
console.log(await nodeStartupLine());
const nsenterMs = [];
for (let i = 0; i < 10; i++) nsenterMs.push(await timed(() => run(['nsenter', `--net=/run/netns/${trees[0].host}`, 'true'])));
console.log(`nsenter --net=... true (part of every row): ${fmt(median(nsenterMs))} ms`);

// First use makes the default bridge (one-time setup): not what is measured.
for (const t of trees) {
  await plumb(t, ['network', 'ls']);
  for (let k = 0; k < EXISTING; k++) await plumb(t, ['network', 'create', `other${k}`]);
  await plumb(t, ['network', 'create', 'warm']);
  await plumb(t, ['network', 'rm', 'warm']);
}

const times = new Map(trees.map((t) => [t, { create: [], rm: [], createCpu: [], rmCpu: [] }]));
for (let i = 0; i < N; i++) {
  const order = i % 2 === 0 ? trees : [...trees].reverse();
  for (const what of ['create', 'rm']) {
    for (const t of order) {
      const m = await measured(t, ['network', what, `bn${i}`]);
      times.get(t)[what].push(m.wall);
      times.get(t)[`${what}Cpu`].push(m.cpu);
    }
  }
}
console.log(`load average after: ${loadAverage()}\n`);

const rows = [];
for (const what of ['create', 'rm']) {
  for (const t of trees) {
    const xs = times.get(t)[what];
    const cpu = times.get(t)[`${what}Cpu`];
    rows.push([`network ${what}, ${t.label}`, fmt(median(xs)), fmt(percentile(xs, 90)), fmt(Math.min(...xs)), fmt(median(cpu)), fmt(Math.min(...cpu))]);
  }
  if (trees.length === 2) {
    const [a, b] = trees.map((t) => median(times.get(t)[what]));
    const [ac, bc] = trees.map((t) => median(times.get(t)[`${what}Cpu`]));
    rows.push([`  this / base`, (a / b).toFixed(2), '', '', (ac / bc).toFixed(2), '']);
  }
}
table(['whole process, ms', 'wall median', 'p90', 'min', 'CPU median', 'CPU min'], rows);

console.log('');
const countRows = [];
for (const t of trees) {
  const c = await counted(t, ['network', 'create', 'counted']);
  const r = await counted(t, ['network', 'rm', 'counted']);
  for (const [what, x] of [['create', c], ['rm', r]]) {
    countRows.push([`network ${what}, ${t.label}`, x.processes, x.restores, x.saves, x.rtnl, x.nfSelf, x.nfChildren, x.sysctlWrites, x.storeWrites]);
  }
}
table(['one command, counted (strace -f)', 'processes', 'iptables-restore', 'iptables-save', 'rtnetlink req', 'nf_tables req (plumb)', 'nf netlink msgs (children)', 'sysctl writes', 'store writes'], countRows);
