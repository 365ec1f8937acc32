// Benchmark body for `BENCH_COMPARE=TREE[:TREE...] scripts/bench-run`: the
// whole-process `plumb run -d`, `run -d -p 8080:80`, `rm -f` and `rm -f` of a
// container with a published port, for this tree and every other tree named,
// INTERLEAVED: each iteration runs every command once per tree, in an order
// that rotates, so load from the rest of the machine falls on all trees alike.
// Each tree has its own lab host namespace and its own PLUMB_ROOT (two plumbs
// in one namespace would share the default bridge and the firewall chains).
// Prints medians, p90 and each tree's time as a ratio of this tree's, then
// what each command starts: processes created (fork/clone without
// CLONE_THREAD) and programs executed (execve), counted with strace, which do
// not depend on load.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fmt, loadAverage, median, percentile, run, sleep, table, timed } from './bench-util.mjs';

const ROOT = process.env.BENCH_ROOT;
const N = Number(process.env.BENCH_N ?? 15);
const trees = JSON.parse(process.env.BENCH_COMPARE_TREES ?? '[]');
if (!ROOT || trees.length < 2) throw new Error('run BENCH_COMPARE=/other/tree scripts/bench-run, which sets up the labs');

/** Short name of a tree: its commit (and whether its work tree differs from it). */
function label(tree) {
  try {
    const head = execFileSync('git', ['-C', tree.source, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', tree.source, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return `${basename(tree.source)} ${head}${dirty ? '+' : ''}`;
  } catch {
    return basename(tree.source);
  }
}

function envOf(tree) {
  return { ...process.env, PLUMB_ROOT: tree.root, PLUMB_NETNS_DIR: join(tree.root, 'netns-names') };
}

/** bin/plumb of `tree`, run as users run it (the file itself), inside the tree's lab host. */
const plumb = (tree, args) => run(['nsenter', `--net=${tree.netns}`, join(tree.dir, 'bin', 'plumb'), ...args], { env: envOf(tree) });

const COMMANDS = [
  { what: 'run -d', args: (i) => ['run', '-d', '--name', `a${i}`, 'alpine'] },
  { what: 'run -d -p 8080:80', args: (i) => ['run', '-d', '--name', `b${i}`, '-p', '8080:80', 'alpine'] },
  { what: 'rm -f', args: (i) => ['rm', '-f', `a${i}`] },
  { what: 'rm -f (published port)', args: (i) => ['rm', '-f', `b${i}`] },
];

/**
 * Runs `args` under strace (attached to a stopped shell that then execs
 * plumb, so strace can be detached once plumb is done while the container's
 * monitor lives on) and counts what it started.
 */
async function countSpawns(tree, args) {
  const out = join(ROOT, `strace-${process.pid}.txt`);
  rmSync(out, { force: true });
  const argv = ['nsenter', `--net=${tree.netns}`, join(tree.dir, 'bin', 'plumb'), ...args];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const sh = spawn('sh', ['-c', `kill -STOP $$; exec ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe'], env: envOf(tree) });
  const shDone = new Promise((r) => sh.on('close', r));
  // Wait until the shell has stopped itself.
  for (let i = 0; i < 500; i++) {
    const state = readFileSync(`/proc/${sh.pid}/stat`, 'utf8').split(') ')[1]?.[0];
    if (state === 'T') break;
    await sleep(2);
  }
  const st = spawn('strace', ['-f', '-o', out, '-e', 'trace=execve,clone,clone3,fork,vfork', '-e', 'signal=none', '-p', String(sh.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  st.stderr.on('data', (b) => (said += b));
  const stDone = new Promise((r) => st.on('close', r));
  while (!/attached/.test(said)) await sleep(2);
  process.kill(sh.pid, 'SIGCONT');
  await shDone;
  // The container's last exec may follow plumb's exit by a moment: wait until the trace is quiet.
  let size = -1;
  for (let quiet = 0; quiet < 3; ) {
    await sleep(100);
    const s = readFileSync(out).length;
    quiet = s === size ? quiet + 1 : 0;
    size = s;
  }
  // strace has ended by itself when every process it traced did (rm); else it detaches now.
  if (st.exitCode === null && st.signalCode === null) process.kill(st.pid, 'SIGTERM');
  await stDone;
  const lines = readFileSync(out, 'utf8').split('\n');
  rmSync(out, { force: true });
  const started = lines.filter((l) => /\b(clone3?|v?fork)\(/.test(l) && !/resumed/.test(l) && !/CLONE_THREAD/.test(l)).length;
  const execs = lines.filter((l) => /\bexecve\(/.test(l) || /<\.\.\. execve resumed>/.test(l)).filter((l) => /= 0$/.test(l)).length;
  return { started, execs };
}

async function main() {
  const loadBefore = loadAverage();
  for (const t of trees) t.label = label(t);
  // Untimed: the first run creates the default bridge network and its firewall chains, and each command's code cache.
  for (const t of trees) {
    for (const c of COMMANDS) await plumb(t, c.args('w'));
  }
  const times = trees.map(() => COMMANDS.map(() => []));
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < COMMANDS.length; c++) {
      for (let k = 0; k < trees.length; k++) {
        const t = (k + i + c) % trees.length;
        times[t][c].push(await timed(() => plumb(trees[t], COMMANDS[c].args(i))));
      }
    }
  }
  const counts = [];
  for (const t of trees) {
    const row = [];
    for (const c of COMMANDS) row.push(await countSpawns(t, c.args('s')));
    counts.push(row);
  }
  for (const t of trees) await plumb(t, ['system', 'reset']);

  console.log(`N = ${N} interleaved iterations (each runs every command once per tree, order rotating); ms per command, whole bin/plumb process; load average ${loadBefore} before, ${loadAverage()} after\n`);
  const first = trees[0];
  table(
    ['command', ...trees.flatMap((t) => [`${t.label} median`, 'p90']), ...trees.slice(1).map((t) => `${t.label} / ${first.label}`)],
    COMMANDS.map((c, ci) => [
      c.what,
      ...trees.flatMap((_, ti) => [fmt(median(times[ti][ci])), fmt(percentile(times[ti][ci], 90))]),
      ...trees.slice(1).map((_, k) => (median(times[k + 1][ci]) / median(times[0][ci])).toFixed(2)),
    ]),
  );
  console.log('\nprocesses created (fork/clone) / programs executed (execve) per command, strace -f, the container\'s own start included:\n');
  table(
    ['command', ...trees.map((t) => t.label)],
    COMMANDS.map((c, ci) => [c.what, ...trees.map((_, ti) => `${counts[ti][ci].started} / ${counts[ti][ci].execs}`)]),
  );
}

await main();
