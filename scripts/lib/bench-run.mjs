// Benchmark body for scripts/bench-run (which makes the lab and runs this
// inside it, with a private PLUMB_ROOT / PLUMB_NETNS_DIR). One sandbox on the
// default bridge network, made and removed N times (N = 50), four ways:
//   plumb CLI    `plumb run -d --name X alpine`, then `plumb rm -f X`: whole processes (the
//                container's main process is its holder; a second row gives it COMMAND `sleep 3600`)
//   ip script    the same sandbox from one `sh` running `ip` commands (7 to build, 2 to remove)
//   CNI plugins  `ip netns add` + loopback + bridge plugin (host-local IPAM); DEL + `ip netns del`
//   engine       createAndStart / removeContainers called in this process (no node startup)
// Prints the median (and p90) ms per sandbox of each.
import { join, resolve } from 'node:path';
import { CNI_LOOPBACK_CONFIG, cni, cniBridgeConfig, envWithoutExtraCa, fmt, loadAverage, median, nodeStartupLine, now, percentile, run, sleep, runRequest, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
const PLUMB = join(REPO, 'bin', 'plumb');
const ID = process.env.BENCH_ID;
const ROOT = process.env.BENCH_ROOT;
if (!ID || !ROOT || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-run, which sets up the lab');
const N = Number(process.env.BENCH_N ?? 50);
const TARGET_ENGINE_MS = 3;
const TARGET_PROCESS_MS = 100;

/** bin/plumb run as users run it: the file itself, so its shebang applies. */
const plumb = (args) => run([PLUMB, ...args]);
/** The same through `node bin/plumb`, which bypasses the shebang (and so keeps NODE_EXTRA_CA_CERTS). */
const plumbViaNode = (args) => run([process.execPath, PLUMB, ...args]);

/** Times `make(i)` for every i, then `remove(i)` for every i: N sandboxes exist at the peak, as with `docker run` x N. */
async function series(make, remove) {
  const up = [];
  const down = [];
  for (let i = 0; i < N; i++) up.push(await timed(() => make(i)));
  for (let i = 0; i < N; i++) down.push(await timed(() => remove(i)));
  return { up, down };
}

/** `command`: COMMAND after the image (empty: none, so the container's main process is the holder). */
function cliSeries(cli, command = []) {
  return series(
    (i) => cli(['run', '-d', '--name', `p${i}`, 'alpine', ...command]),
    (i) => cli(['rm', '-f', `p${i}`]),
  );
}

/** The same with one published port each (8080:80 for the first, 8081:80 for the next: all N exist at the peak). */
function cliPublishSeries(cli) {
  return series(
    (i) => cli(['run', '-d', '--name', `q${i}`, '-p', `${8080 + i}:80`, 'alpine']),
    (i) => cli(['rm', '-f', `q${i}`]),
  );
}

/** The first of these modules that exists: the engine's files moved into folders by use case. */
async function importFirst(...paths) {
  let last;
  for (const p of paths) {
    try {
      return await import(p);
    } catch (e) {
      if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
      last = e;
    }
  }
  throw last;
}

function ipScriptSeries() {
  const ns = (i) => `${ID}-i${i}`;
  const ip = (i) => `10.210.${(i + 2) >> 8}.${(i + 2) & 255}`;
  const build = (i) =>
    [
      `ip netns add ${ns(i)}`,
      `ip link add vi${i} type veth peer name eth0 netns ${ns(i)}`,
      `ip link set vi${i} master br-ip up`,
      `ip -n ${ns(i)} link set lo up`,
      `ip -n ${ns(i)} link set eth0 up`,
      `ip -n ${ns(i)} addr add ${ip(i)}/16 dev eth0`,
      `ip -n ${ns(i)} route add default via 10.210.0.1`,
    ].join('\n');
  const remove = (i) => `ip link del vi${i}\nip netns del ${ns(i)}`;
  return series(
    (i) => run(['sh', '-ec', build(i)]),
    (i) => run(['sh', '-ec', remove(i)]),
  );
}

function cniSeries() {
  const ns = (i) => `${ID}-c${i}`;
  const config = cniBridgeConfig({ bridge: 'br-cni', subnet: '10.211.0.0/16', gateway: '10.211.0.1', dataDir: join(ROOT, 'cni-ipam') });
  const args = (i) => ({ containerId: `${ID}-c${i}`, netns: `/run/netns/${ns(i)}`, ifname: 'eth0' });
  return series(
    async (i) => {
      await run(['ip', 'netns', 'add', ns(i)]);
      await cni('loopback', 'ADD', { ...args(i), ifname: 'lo', config: CNI_LOOPBACK_CONFIG });
      await cni('bridge', 'ADD', { ...args(i), config });
    },
    async (i) => {
      await cni('bridge', 'DEL', { ...args(i), config });
      await cni('loopback', 'DEL', { ...args(i), ifname: 'lo', config: CNI_LOOPBACK_CONFIG });
      await run(['ip', 'netns', 'del', ns(i)]);
    },
  );
}

/**
 * Wraps the journal (every kernel change goes through it) and the store so the
 * engine's time can be split: kernel calls by op kind, store reads/writes, and
 * the rest (lock, /etc files, records, logic).
 */
function instrument(Journal, Store, Transaction, spent) {
  const add = (key, ms) => spent.set(key, (spent.get(key) ?? 0) + ms);
  // The container's processes: its cgroup, then plumb-monitor and the main process (the holder here).
  const processSteps = { cgroup: 'process: cgroup mkdir', 'start process': 'process: plumb-monitor + main process started' };
  const origStep = Transaction.prototype.step;
  Transaction.prototype.step = function (step, run, undo) {
    const key = processSteps[step];
    if (!key) return origStep.call(this, step, run, undo);
    return origStep.call(this, step, async () => {
      const t = now();
      try {
        return await run();
      } finally {
        add(key, now() - t);
      }
    }, undo);
  };
  const origRun = Journal.prototype.run;
  Journal.prototype.run = function (op, exec, fallback) {
    return origRun.call(this, op, async () => {
      const t = now();
      try {
        return await exec();
      } finally {
        add(`kernel: ${op.kind}`, now() - t);
      }
    }, fallback);
  };
  const origRunSync = Journal.prototype.runSync;
  Journal.prototype.runSync = function (op, exec, fallback) {
    return origRunSync.call(this, op, () => {
      const t = now();
      try {
        return exec();
      } finally {
        add(`kernel: ${op.kind}`, now() - t);
      }
    }, fallback);
  };
  for (const method of ['read', 'write', 'loadForWrite']) {
    const orig = Store.prototype[method];
    Store.prototype[method] = function (...args) {
      const t = now();
      try {
        return orig.apply(this, args);
      } finally {
        add(`store ${method}`, now() - t);
      }
    };
  }
}

/** Where the instrumented Journal and Store add their time: the series running now. */
let current = new Map();
let instrumented = false;

/** The engine's series, with plumb's state where `env` puts it (PLUMB_ROOT). */
async function engineSeries(env) {
  const t0 = now();
  const { Context } = await importFirst('../../dist/engine/core/context.js', '../../dist/engine/context.js');
  const { createAndStart, removeContainers } = await importFirst('../../dist/engine/containers/lifecycle.js', '../../dist/engine/containers.js');
  const importMs = now() - t0;
  if (!instrumented) {
    const { Journal } = await import('../../dist/kernel/ops.js');
    const { Store } = await import('../../dist/store/store.js');
    const { Transaction } = await importFirst('../../dist/engine/core/transaction.js', '../../dist/engine/transaction.js');
    instrument(Journal, Store, Transaction, { get: (k) => current.get(k), set: (k, v) => current.set(k, v) });
    instrumented = true;
  }
  const spent = { up: new Map(), down: new Map() };
  current = spent.up;
  const request = (name) => runRequest(name, 'bridge');
  // One Context per operation, as each CLI process has.
  const withContext = async (fn) => {
    const ctx = new Context({ env });
    try {
      return await fn(ctx);
    } finally {
      ctx.close();
    }
  };
  const result = await series(
    (i) => withContext((ctx) => createAndStart(ctx, request(`e${i}`))),
    (i) =>
      withContext(async (ctx) => {
        current = spent.down;
        const r = await removeContainers(ctx, [`e${i}`], true);
        if (r.errors.length) throw new Error(r.errors.join('; '));
      }),
  );
  return { ...result, importMs, spent };
}

/** Where the engine's time goes, per sandbox: kernel calls by kind, store I/O, the rest. */
function printBreakdown(label, times, spent) {
  const total = times.reduce((a, b) => a + b, 0);
  const rows = [...spent].sort((a, b) => b[1] - a[1]).map(([k, ms]) => [k, fmt(ms / N)]);
  const accounted = [...spent.values()].reduce((a, b) => a + b, 0);
  rows.push(['rest: lock, /etc files, records, logic', fmt((total - accounted) / N)]);
  rows.push(['total (mean)', fmt(total / N)]);
  console.log('');
  table([`engine ${label}, ms per sandbox`, 'ms'], rows);
}

/**
 * ms to load what `plumb run` needs, in a fresh node process (median of 5):
 * the bundle, as bin/plumb loads it (through run's code cache, which the
 * untimed warm-up run left), then the modules the run command itself loads.
 */
async function cliImportMs(env) {
  const code =
    `const t = performance.now(); ` +
    `const cli = require('./bin/code-cache.cjs').loadBundle(require('node:path').resolve('dist/bundle/plumb.cjs'), 'run'); ` +
    `cli.loadRunModules().then(() => process.stdout.write(String(performance.now() - t)));`;
  const xs = [];
  for (let i = 0; i < 5; i++) xs.push(Number(await run([process.execPath, '-e', code], { env, cwd: REPO })));
  return median(xs);
}

async function main() {
  const loadBefore = loadAverage();
  // Untimed: the first run creates the default bridge network and its firewall chains.
  await plumb(['run', '-d', '--name', 'warmup', 'alpine']);
  await plumb(['rm', '-f', 'warmup']);
  await run(['sh', '-ec', 'ip link add br-ip type bridge && ip addr add 10.210.0.1/16 dev br-ip && ip link set br-ip up']);

  const rows = [];
  const add = (what, r) => rows.push({ what, r });
  add('plumb run -d / rm -f (whole process)', await cliSeries(plumb));
  await sleep(500);
  add('plumb run -d alpine sleep 3600 / rm -f (with COMMAND)', await cliSeries(plumb, ['sleep', '3600']));
  await sleep(500);
  add('plumb run -d -p 8080:80 / rm -f (whole process)', await cliPublishSeries(plumb));
  // Some machines set NODE_EXTRA_CA_CERTS, which makes every node process parse
  // a CA bundle before it starts (tens of ms). bin/plumb's shebang drops it
  // (plumb makes no TLS connection); `node bin/plumb` cannot, as this row shows.
  if (process.env.NODE_EXTRA_CA_CERTS) {
    await sleep(500);
    add('  same as `node bin/plumb`, NODE_EXTRA_CA_CERTS parsed', await cliSeries(plumbViaNode));
  }
  await sleep(500);
  add('ip script (sh + ip per operation)', await ipScriptSeries());
  await sleep(500);
  add('CNI: ip netns add + loopback + bridge', await cniSeries());
  await sleep(500);
  const engine = await engineSeries(process.env);
  add('engine in-process (createAndStart / removeContainers)', engine);
  // The same with plumb's whole root on a private tmpfs: the time the kernel
  // work and plumb's own logic take, without this disk's cost of creating the
  // files every sandbox has (its directory, hosts, resolv.conf, hostname,
  // the ip netns name). The first root is reset first, so the second makes
  // its own default bridge in the same lab.
  let engineTmpfs;
  let engineLayout;
  if (process.env.BENCH_TMPFS_ROOT) {
    // The layout users get: the state (store, logs) on this disk, the run
    // directory (namespace files, /etc files, lock, journal) on a tmpfs, as
    // /var/lib/plumb and /run/plumb are on systemd distributions.
    await plumb(['system', 'reset']);
    const env = { ...process.env, PLUMB_RUN_DIR: join(process.env.BENCH_TMPFS_ROOT, 'run-only') };
    await sleep(500);
    engineLayout = await engineSeries(env);
    add('  same, state on disk, run directory on tmpfs', engineLayout);
    await run([PLUMB, 'system', 'reset'], { env });
  }
  if (process.env.BENCH_TMPFS_ROOT) {
    await plumb(['system', 'reset']);
    const root = process.env.BENCH_TMPFS_ROOT;
    const env = { ...process.env, PLUMB_ROOT: root, PLUMB_NETNS_DIR: join(root, 'netns-names') };
    await sleep(500);
    engineTmpfs = await engineSeries(env);
    add('  same, plumb root on tmpfs', engineTmpfs);
    await run([PLUMB, 'system', 'reset'], { env });
  }

  const startup = await nodeStartupLine();
  const importMs = await cliImportMs(envWithoutExtraCa());
  console.log(`N = ${N} sandboxes on one bridge, made one after another, then removed; ms per sandbox, ${process.env.BENCH_CPUS ?? '?'} CPUs, load average ${loadBefore} before, ${loadAverage()} after\n`);
  table(
    ['method', 'setup median', 'setup p90', 'teardown median', 'teardown p90'],
    rows.map(({ what, r }) => [what, fmt(median(r.up)), fmt(percentile(r.up, 90)), fmt(median(r.down)), fmt(percentile(r.down, 90))]),
  );
  console.log('');
  console.log(startup);
  console.log(`loading the modules \`plumb run\` needs (the bundle through its code cache, then the run command's modules), fresh process, median of 5: ${fmt(importMs)} ms`);
  console.log(`loading the engine (context and container lifecycle modules) in this process: ${fmt(engine.importMs)} ms`);
  printBreakdown('setup (createAndStart)', engine.up, engine.spent.up);
  printBreakdown('teardown (removeContainers)', engine.down, engine.spent.down);
  console.log('');
  if (engineLayout) printBreakdown('setup (createAndStart), state on disk, run directory on tmpfs', engineLayout.up, engineLayout.spent.up);
  if (engineTmpfs) printBreakdown('setup (createAndStart), plumb root on tmpfs', engineTmpfs.up, engineTmpfs.spent.up);
  console.log('');
  const eng = median(engine.up);
  console.log(`target: engine <= ${TARGET_ENGINE_MS} ms per sandbox: ${fmt(eng)} ms (median) — ${eng <= TARGET_ENGINE_MS ? 'met' : 'MISSED'}`);
  if (engineLayout) {
    const t = median(engineLayout.up);
    console.log(`        state on disk, run directory on tmpfs (what users get): ${fmt(t)} ms (median) — ${t <= TARGET_ENGINE_MS ? 'met' : 'MISSED'}`);
  }
  if (engineTmpfs) {
    const t = median(engineTmpfs.up);
    console.log(`        the same with plumb's root on tmpfs: ${fmt(t)} ms (median) — ${t <= TARGET_ENGINE_MS ? 'met' : 'MISSED'}`);
  }
  for (const { what, r } of rows.filter((x) => x.what.startsWith('plumb'))) {
    const cli = median(r.up);
    console.log(`target: whole \`plumb run -d\` process <= ${TARGET_PROCESS_MS} ms (${what.trim()}): ${fmt(cli)} ms — ${cli <= TARGET_PROCESS_MS ? 'met' : 'MISSED'}`);
  }
}

await main();
