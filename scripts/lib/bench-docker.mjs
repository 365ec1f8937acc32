// Benchmark body for scripts/bench-docker (which installs Docker, starts a
// private dockerd in its own lab namespace and runs this inside plumb's lab,
// with a private PLUMB_ROOT). Each iteration runs every command twice, once
// with Docker's CLI against that dockerd and once with bin/plumb, the order
// alternating between iterations; both are whole processes as users run them.
// Prints the median ms of each and the ratio Docker / plumb.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fmt, loadAverage, median, nodeStartupLine, run, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
const PLUMB = join(REPO, 'bin', 'plumb');
const DOCKER = process.env.BENCH_DOCKER;
if (!DOCKER || !process.env.DOCKER_HOST || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-docker, which sets up dockerd and the lab');
const N = Number(process.env.BENCH_N ?? 15);

/** The two sides: their CLI, and the image each calls the same busybox root filesystem. */
const SIDES = {
  docker: { cli: (args) => run([DOCKER, ...args]), image: 'bench/busybox' },
  plumb: { cli: (args) => run([PLUMB, ...args]), image: 'busybox' },
};
const SLEEP = ['sleep', '3600'];
// A container that ends on SIGTERM (a plain `sleep` as PID 1 ignores it, and
// `docker stop` would wait out its 10 s grace period): the stop/start rows.
const STOPPABLE = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"];

/** The rows of the table, in the order they are printed, with every sample of each side. */
const ROWS = [
  'run -d',
  'run -d -p 8080:80',
  'ps',
  'inspect',
  'port',
  'rm -f',
  'rm -f (with a published port)',
  'stop',
  'start',
  'network create',
  'network connect',
  'network disconnect',
  'network rm',
];
const samples = new Map(ROWS.map((r) => [r, { docker: [], plumb: [] }]));

/** One command on both sides, in `order`; `argsFor(side)` builds its arguments. Untimed when `row` is null. */
async function both(order, row, argsFor) {
  for (const name of order) {
    const side = SIDES[name];
    const ms = await timed(() => side.cli(argsFor(side)));
    if (row) samples.get(row)[name].push(ms);
  }
}

/**
 * One iteration: a container made, looked at and removed; one with a published
 * port; a network made, the long-lived container `keep` connected to it and
 * disconnected, the network removed; `keep` stopped and started again.
 * `tag` names what it makes; timed unless `warmup`.
 */
async function iteration(tag, order, warmup = false) {
  const row = (r) => (warmup ? null : r);
  await both(order, row('run -d'), (s) => ['run', '-d', '--name', `c${tag}`, s.image, ...SLEEP]);
  await both(order, row('ps'), () => ['ps']);
  await both(order, row('inspect'), () => ['inspect', `c${tag}`]);
  await both(order, row('rm -f'), () => ['rm', '-f', `c${tag}`]);
  await both(order, row('run -d -p 8080:80'), (s) => ['run', '-d', '--name', `p${tag}`, '-p', '8080:80', s.image, ...SLEEP]);
  await both(order, row('port'), () => ['port', `p${tag}`]);
  await both(order, row('rm -f (with a published port)'), () => ['rm', '-f', `p${tag}`]);
  await both(order, row('network create'), () => ['network', 'create', `n${tag}`]);
  await both(order, row('network connect'), () => ['network', 'connect', `n${tag}`, 'keep']);
  await both(order, row('network disconnect'), () => ['network', 'disconnect', `n${tag}`, 'keep']);
  await both(order, row('network rm'), () => ['network', 'rm', `n${tag}`]);
  await both(order, row('stop'), () => ['stop', 'keep']);
  await both(order, row('start'), () => ['start', 'keep']);
}

async function versions() {
  const docker = (await SIDES.docker.cli(['version', '--format', 'client {{.Client.Version}}, daemon {{.Server.Version}} (API {{.Server.APIVersion}})'])).trim();
  const containerd = (await SIDES.docker.cli(['version', '--format', '{{range .Server.Components}}{{.Name}} {{.Version}}; {{end}}'])).trim();
  const plumb = (await SIDES.plumb.cli(['--version'])).trim();
  return { docker, containerd, plumb };
}

const ratio = (d, p) => `${(d / p).toFixed(1)}×`;

async function main() {
  const loadBefore = loadAverage();
  const cpus = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm).length;
  // Untimed: the long-lived container, and one round that makes plumb's default bridge and warms both sides' caches.
  await both(['docker', 'plumb'], null, (s) => ['run', '-d', '--name', 'keep', s.image, ...STOPPABLE]);
  await iteration('w', ['docker', 'plumb'], true);
  for (let i = 0; i < N; i++) await iteration(String(i), i % 2 ? ['plumb', 'docker'] : ['docker', 'plumb']);
  await both(['docker', 'plumb'], null, () => ['rm', '-f', 'keep']);

  const v = await versions();
  const startup = await nodeStartupLine();
  console.log(`N = ${N} per command, Docker's and plumb's run back to back in each iteration (order alternating); median ms of whole CLI processes`);
  console.log(`${cpus} CPUs, load average ${loadBefore} before, ${loadAverage()} after`);
  console.log(`Docker: ${v.docker}; ${v.containerd} storage driver ${process.env.BENCH_DOCKER_DRIVER ?? '?'}`);
  console.log(`plumb: ${v.plumb}, tree ${process.env.BENCH_COMMIT ?? '?'}`);
  console.log(startup);
  console.log('');
  table(
    ['command', 'Docker', 'plumb', 'Docker/plumb'],
    ROWS.map((r) => {
      const d = median(samples.get(r).docker);
      const p = median(samples.get(r).plumb);
      return [r, fmt(d), fmt(p), ratio(d, p)];
    }),
  );
}

await main();
