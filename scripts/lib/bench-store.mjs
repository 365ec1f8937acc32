// The store alone, no kernel: what one operation on one container costs in
// store reads and writes when N other containers exist (N = 10, 100, 1000).
// Usage: node scripts/lib/bench-store.mjs DIST_DIR... (each a compiled src/,
// e.g. dist/ of two trees: the trees are measured interleaved, round by
// round, so a load change on the machine hits both alike).
// Each round, per tree: a `run`-like operation (lock, look the name up, add a
// record, take an address on its network, commit), an `inspect`-like read
// (lock-free read, find by name) and an `rm`-like one (lock, find, delete,
// release the address, commit). Prints medians in ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, median, now, table } from './bench-util.mjs';

const ROUNDS = Number(process.env.BENCH_N ?? 41);
const SIZES = (process.env.BENCH_SIZES ?? '10,100,1000').split(',').map(Number);
const dists = process.argv.slice(2).map((d) => resolve(d));
if (!dists.length) throw new Error('usage: bench-store.mjs DIST_DIR...');

const hex = (i, len = 64) => i.toString(16).padStart(len, '0');
const ipOf = (i) => `172.18.${(i + 2) >> 8}.${(i + 2) & 255}`;

function record(i, netId) {
  const id = hex(i + 1);
  const ip = ipOf(i);
  return {
    id,
    name: `c${i}`,
    image: 'alpine',
    command: [],
    created: new Date(0).toISOString(),
    hostname: id.slice(0, 12),
    state: 'running',
    pid: 100000 + i,
    pidStart: 1,
    monitorPid: 200000 + i,
    monitorStart: 1,
    cgroup: `/sys/fs/cgroup/plumb/${id}`,
    tty: false,
    openStdin: false,
    startedAt: new Date(0).toISOString(),
    autoRemove: false,
    networkMode: 'net',
    networks: [{ networkId: netId, aliases: [] }],
    endpoints: { [netId]: { id: hex(i + 1, 64).replace(/^0/, 'e'), networkId: netId, ifname: 'eth0', hostVeth: `veth${hex(i, 7)}`, ip, prefix: 16, mac: '02:42:ac:12:00:02', gateway: '172.18.0.1', aliases: [] } },
    publish: [],
    publishAll: false,
    ports: [],
    expose: [],
    links: [],
    env: { A: 'b' },
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
    nextIfIndex: 1,
    embeddedDns: true,
    sandbox: { id, netns: `/run/plumb/netns/${id.slice(0, 12)}`, uts: `/run/plumb/uts/${id.slice(0, 12)}` },
  };
}

const NET = 'a'.repeat(64);
const network = () => ({
  id: NET,
  name: 'net',
  driver: 'bridge',
  scope: 'local',
  created: new Date(0).toISOString(),
  internal: false,
  attachable: false,
  builtin: false,
  labels: {},
  options: {},
  ipam: { subnet: '172.18.0.0/16', gateway: '172.18.0.1', aux: {}, userSubnet: false, userGateway: false },
  bridge: 'br-aaaaaaaaaaaa',
  allocated: {},
});

async function load(dist) {
  const store = await import(join(dist, 'store', 'store.js'));
  const paths = await import(join(dist, 'store', 'paths.js'));
  return { ...store, ...paths };
}

/** A root holding N containers on one network, made through the tree's own store. */
async function populate(m, n) {
  const root = mkdtempSync(join(process.env.BENCH_STORE_DIR ?? tmpdir(), 'plumb-store-bench-'));
  const paths = m.resolvePaths({}, root);
  const store = new m.Store(paths);
  await store.locked(async (data, commit) => {
    data.networks[NET] = network();
    for (let i = 0; i < n; i++) {
      const c = record(i, NET);
      data.containers[c.id] = c;
      data.networks[NET].allocated[c.endpoints[NET].ip] = c.endpoints[NET].id;
    }
    commit();
  });
  return { root, paths };
}

async function oneRound(m, paths, n) {
  const store = new m.Store(paths);
  const c = record(n + 5, NET);
  c.name = 'probe';
  let t = now();
  await store.locked(async (data, commit) => {
    if (m.findContainer(data, 'probe')) throw new Error('probe exists');
    data.containers[c.id] = c;
    data.networks[NET].allocated[c.endpoints[NET].ip] = c.endpoints[NET].id;
    commit();
  });
  const run = now() - t;
  t = now();
  const found = m.findContainer(store.read(), 'probe');
  const inspect = now() - t;
  if (!found) throw new Error('probe not found');
  t = now();
  await store.locked(async (data, commit) => {
    const x = m.findContainer(data, 'probe');
    delete data.networks[NET].allocated[x.endpoints[NET].ip];
    delete data.containers[x.id];
    commit();
  });
  return { run, inspect, rm: now() - t };
}

const trees = [];
for (const d of dists) trees.push({ dist: d, m: await load(d) });
const rows = [];
for (const n of SIZES) {
  const states = [];
  for (const t of trees) states.push({ t, ...(await populate(t.m, n)), run: [], inspect: [], rm: [] });
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of states) {
      const x = await oneRound(s.t.m, s.paths, n);
      s.run.push(x.run);
      s.inspect.push(x.inspect);
      s.rm.push(x.rm);
    }
  }
  for (const s of states) {
    rows.push([String(n), s.t.dist, fmt(median(s.run)), fmt(median(s.inspect)), fmt(median(s.rm))]);
    rmSync(s.root, { recursive: true, force: true });
  }
}
console.log(`store cost per operation on one container, N others on one network, median of ${ROUNDS} (trees interleaved), ms`);
table(['N', 'tree', 'run-like', 'inspect-like', 'rm-like'], rows);
