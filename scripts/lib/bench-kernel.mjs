// Benchmark body for scripts/bench-kernel (which makes the lab and runs this
// inside it). N sandboxes — a new namespace, a veth pair with the peer inside
// it, the host end on a bridge, an address, a default route, lo up — built and
// torn down three ways, one after another on the same machine:
//   kernel  plumb's kernel layer, in this process (netlink, no child processes)
//   ip      one `ip` process per operation (7 to build, 2 to tear down)
//   cni     the CNI reference plugins as a runtime calls them: loopback + bridge
//           (host-local IPAM) per sandbox; the namespace is made in-process,
//           as container runtimes do, with the kernel layer
// Prints ms per sandbox for setup and teardown.
import { join } from 'node:path';
import { CNI_LOOPBACK_CONFIG, cni, cniBridgeConfig, fmt, loadAverage, nodeStartupLine, now, run, sleep, table, timed } from './bench-util.mjs';

const t0 = now();
const { Journal } = await import('../../dist/kernel/ops.js');
const { closeNetns, createNetns, deleteNsFile, hostNetns } = await import('../../dist/kernel/netns.js');
const { Rtnl } = await import('../../dist/kernel/rtnl.js');
const importMs = now() - t0;

const ID = process.env.BENCH_ID;
const ROOT = process.env.BENCH_ROOT;
if (!ID || !ROOT) throw new Error('run scripts/bench-kernel, which sets up the lab');
const SIZES = (process.env.BENCH_SIZES ?? '1,50,200').split(',').map(Number);
const TARGET_MS = 3;

/** 10.X.0.0/16: the bridge holds .0.1, sandbox i gets the (i+2)th address. */
const subnetOf = (second) => ({ subnet: `10.${second}.0.0/16`, gateway: `10.${second}.0.1` });
const addrOf = (second, i) => `10.${second}.${(i + 2) >> 8}.${(i + 2) & 255}`;
const macOf = (second, i) => `02:42:0a:${second.toString(16).padStart(2, '0')}:${(((i + 2) >> 8) & 255).toString(16).padStart(2, '0')}:${((i + 2) & 255).toString(16).padStart(2, '0')}`;

function kernelMethod() {
  const journal = new Journal();
  const host = Rtnl.open(hostNetns(), journal);
  const net = subnetOf(201);
  const bridge = 'br-k';
  const nsPath = (i) => join(ROOT, 'netns', `k${i}`);
  return {
    name: 'kernel layer (in-process netlink)',
    async prepare() {
      await host.addBridge(bridge);
      await host.addAddress(bridge, `${net.gateway}/16`);
      await host.setLink(bridge, { up: true });
    },
    async setup(i) {
      const ns = createNetns(journal, `k${i}`, nsPath(i));
      const sb = Rtnl.open(ns, journal);
      try {
        await host.addVeth(`vk${i}`, 'eth0', ns, { peerAddress: macOf(201, i) });
        await host.setLink(`vk${i}`, { master: bridge, up: true });
        await sb.setLink('lo', { up: true });
        await sb.setLink('eth0', { up: true });
        await sb.addAddress('eth0', `${addrOf(201, i)}/16`);
        await sb.addRoute({ dst: 'default', via: net.gateway });
      } finally {
        sb.close();
        closeNetns(ns);
      }
    },
    async teardown(i) {
      await host.deleteLink(`vk${i}`);
      deleteNsFile(journal, `k${i}`, nsPath(i));
    },
  };
}

function ipMethod() {
  const net = subnetOf(202);
  const bridge = 'br-i';
  const nsName = (i) => `${ID}-i${i}`;
  return {
    name: 'ip, one process per operation',
    async prepare() {
      await run(['ip', 'link', 'add', bridge, 'type', 'bridge']);
      await run(['ip', 'addr', 'add', `${net.gateway}/16`, 'dev', bridge]);
      await run(['ip', 'link', 'set', bridge, 'up']);
    },
    async setup(i) {
      const ns = nsName(i);
      await run(['ip', 'netns', 'add', ns]);
      await run(['ip', 'link', 'add', `vi${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'address', macOf(202, i), 'netns', ns]);
      await run(['ip', 'link', 'set', `vi${i}`, 'master', bridge, 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      await run(['ip', '-n', ns, 'addr', 'add', `${addrOf(202, i)}/16`, 'dev', 'eth0']);
      await run(['ip', '-n', ns, 'route', 'add', 'default', 'via', net.gateway]);
    },
    async teardown(i) {
      await run(['ip', 'link', 'del', `vi${i}`]);
      await run(['ip', 'netns', 'del', nsName(i)]);
    },
  };
}

function cniMethod() {
  const journal = new Journal();
  const net = subnetOf(203);
  const config = cniBridgeConfig({ bridge: 'br-c', ...net, dataDir: join(ROOT, 'cni-ipam') });
  const nsPath = (i) => join(ROOT, 'netns', `c${i}`);
  const args = (i) => ({ containerId: `${ID}-c${i}`, netns: nsPath(i), ifname: 'eth0' });
  return {
    name: 'CNI bridge + loopback plugins',
    async prepare() {},
    async setup(i) {
      closeNetns(createNetns(journal, `c${i}`, nsPath(i)));
      await cni('loopback', 'ADD', { ...args(i), ifname: 'lo', config: CNI_LOOPBACK_CONFIG });
      await cni('bridge', 'ADD', { ...args(i), config });
    },
    async teardown(i) {
      await cni('bridge', 'DEL', { ...args(i), config });
      await cni('loopback', 'DEL', { ...args(i), ifname: 'lo', config: CNI_LOOPBACK_CONFIG });
      deleteNsFile(journal, `c${i}`, nsPath(i));
    },
  };
}

/** Lets the kernel finish freeing namespaces (it does that in the background) before the next measurement. */
async function settle(n) {
  await sleep(300 + 5 * n);
}

async function main() {
  const loadBefore = loadAverage();
  const methods = [kernelMethod(), ipMethod(), cniMethod()];
  for (const m of methods) {
    await m.prepare();
    // One untimed sandbox each: the bridge exists, code paths are warm, CNI made its bridge.
    await m.setup(0);
    await m.teardown(0);
  }
  await settle(1);

  const results = [];
  for (const n of SIZES) {
    for (const m of methods) {
      const setup = await timed(async () => {
        for (let i = 0; i < n; i++) await m.setup(i);
      });
      await settle(n);
      const teardown = await timed(async () => {
        for (let i = 0; i < n; i++) await m.teardown(i);
      });
      await settle(n);
      results.push({ method: m.name, n, setup: setup / n, teardown: teardown / n });
    }
  }

  const startup = await nodeStartupLine();
  console.log(`sandboxes built one after another; ms per sandbox (wall clock), ${process.env.BENCH_CPUS ?? '?'} CPUs, load average ${loadBefore} before, ${loadAverage()} after\n`);
  table(
    ['method', 'N', 'setup ms', 'teardown ms'],
    results.map((r) => [r.method, r.n, fmt(r.setup), fmt(r.teardown)]),
  );
  console.log('');
  console.log(startup);
  console.log(`loading the kernel layer (dist/kernel/{ops,netns,rtnl}.js) in this process: ${fmt(importMs)} ms`);
  const k = results.filter((r) => r.method.startsWith('kernel')).at(-1);
  if (k) {
    const ok = k.setup <= TARGET_MS;
    console.log(`target: kernel layer setup <= ${TARGET_MS} ms per sandbox at N = ${k.n}: ${fmt(k.setup)} ms — ${ok ? 'met' : 'MISSED'}`);
  }
}

await main();
