// Benchmark body for scripts/bench-ports (which makes the lab and runs this
// inside it, with a private PLUMB_ROOT / PLUMB_NETNS_DIR).
//
// Throughput (iperf3, TCP, one stream): a server container publishes
// 15201->5201; a client container on the same bridge sends
//   direct      to the server's own address on the bridge, no NAT at all
//   published   to the host's address on the bridge, port 15201: DNAT, and
//               the bridge hairpins the frame back to the server
//   host lo     from the host to 127.0.0.1:15201: DNAT + route_localnet + MASQUERADE
// Rows are interleaved round by round so they share the machine's mood; the
// ratio is published / direct (median of rounds).
//
// Firewall: a container publishing 200 ports, twice: as one range
// (-p 20000-20199:20000-20199, which plumb folds into one rule per kind) and
// as 200 scattered ports (-p 20000:1000 -p 20002:1002 ..., no two consecutive,
// so every port gets Docker's five rules: 1000 rules).
// The whole `plumb run` is timed as a process, then the firewall step alone
// (know the kernel's rules + render and update + one iptables-restore) is timed in-process, each
// time publishing the 200 ports anew: the store is flipped between "no ports"
// and "200 ports" and only the applies that add them are counted.
import { join, resolve } from 'node:path';
import { fmt, median, now, percentile, run, table, timed } from './bench-util.mjs';

const REPO = resolve(import.meta.dirname, '..', '..');
const PLUMB = join(REPO, 'bin', 'plumb');
if (!process.env.BENCH_ID || !process.env.PLUMB_ROOT) throw new Error('run scripts/bench-ports, which sets up the lab');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_N ?? 20);
const TARGET_RATIO = 0.9;
const TARGET_FIREWALL_MS = 15;
const PORTS = 200;

const plumb = (args) => run([PLUMB, ...args]);

async function iperf(argv) {
  const out = JSON.parse(await run([...argv, '-J', '-t', String(SECONDS), '-O', '1']));
  return out.end.sum_received.bits_per_second / 1e9;
}

async function waitForServer(ip, port) {
  for (let i = 0; i < 100; i++) {
    try {
      await run(['socat', '-T1', '/dev/null', `TCP:${ip}:${port},connect-timeout=1`]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`iperf3 server at ${ip}:${port} never answered`);
}

async function throughput() {
  await plumb(['run', '-d', '--name', 'srv', '-p', '15201:5201', 'bench', 'iperf3', '-s', '-p', '5201']);
  await plumb(['run', '-d', '--name', 'cli', 'bench']);
  const srvIp = (await plumb(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'srv'])).trim();
  const gateway = (await plumb(['inspect', '-f', '{{.NetworkSettings.Gateway}}', 'srv'])).trim() || '172.17.0.1';
  await waitForServer(srvIp, 5201);
  const rows = {
    'direct (container -> container)': () => iperf([PLUMB, 'exec', 'cli', 'iperf3', '-c', srvIp, '-p', '5201']),
    [`published (container -> ${gateway}:15201)`]: () => iperf([PLUMB, 'exec', 'cli', 'iperf3', '-c', gateway, '-p', '15201']),
    'published (host -> 127.0.0.1:15201)': () => iperf(['iperf3', '-c', '127.0.0.1', '-p', '15201']),
  };
  const results = Object.fromEntries(Object.keys(rows).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, f] of Object.entries(rows)) results[k].push(await f());
  const names = Object.keys(rows);
  const direct = median(results[names[0]]);
  table(
    ['iperf3 TCP, 1 stream', 'Gbit/s (median)', 'min', 'max', 'vs direct'],
    names.map((k) => [k, median(results[k]).toFixed(2), Math.min(...results[k]).toFixed(2), Math.max(...results[k]).toFixed(2), (median(results[k]) / direct).toFixed(2)]),
  );
  const ratio = median(results[names[1]]) / direct;
  console.log(`published/direct = ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'OK' : 'MISSED'}`);
  await plumb(['rm', '-f', 'srv', 'cli']);
  return ratio >= TARGET_RATIO;
}

async function firewall(label, publish) {
  const runMs = await timed(() => plumb(['run', '-d', '--name', 'many', ...publish.flatMap((p) => ['-p', p]), 'bench']));
  const { Context } = await import('../../dist/engine/core/context.js');
  const { Transaction } = await import('../../dist/engine/core/transaction.js');
  const { syncFirewall, firewallState } = await import('../../dist/engine/firewall/sync.js');
  const { buildRules, updateText } = await import('../../dist/firewall/index.js');
  const ctx = new Context({ env: process.env });
  const data = ctx.store.read();
  const many = Object.values(data.containers).find((c) => c.name === 'many');
  const bound = many.ports;
  if (bound.length !== PORTS) throw new Error(`expected ${PORTS} bindings, got ${bound.length}`);
  const adds = [];
  for (let i = 0; i < N; i++) {
    many.ports = [];
    await Transaction.run('bench', (tx) => syncFirewall(ctx, data, tx, 'bench: withdraw'));
    many.ports = bound;
    const t0 = now();
    await Transaction.run('bench', (tx) => syncFirewall(ctx, data, tx, 'bench: publish'));
    adds.push(now() - t0);
  }
  ctx.close();
  // where the step's time goes: the update is computed against the rules
  // without the ports, as in the counted applies
  many.ports = [];
  await Transaction.run('bench', (tx) => syncFirewall(ctx, data, tx, 'bench: withdraw'));
  const without = await run(['iptables-save']);
  many.ports = bound;
  await Transaction.run('bench', (tx) => syncFirewall(ctx, data, tx, 'bench: publish'));
  const renders = [];
  const saves = [];
  const knows = [];
  for (let i = 0; i < N; i++) {
    renders.push(await timed(async () => updateText(buildRules(firewallState(data)), without)));
    saves.push(await timed(() => run(['iptables-save'])));
    // What the step itself does to know the kernel's rules: the memo of its last apply while the nf_tables generation stands.
    knows.push(await timed(() => ctx.firewall.current(ctx.hostNs())));
  }
  const save = await run(['iptables-save']);
  const rules = save.split('\n').filter((l) => l.includes('plumb: many ')).length;
  const applied = updateText(buildRules(firewallState(data)), without).split('\n').filter((l) => /^-[AIRD] /.test(l)).length;
  table(
    [`publish ${PORTS} ports in one operation: ${label}`, 'ms (median)', 'p90'],
    [
      [`firewall step (know the rules + update + 1 iptables-restore; ${rules} rules for the ports, ${applied} lines applied)`, fmt(median(adds)), fmt(percentile(adds, 90))],
      ['  of which: know the kernel\'s rules (memo of the last apply, no process)', fmt(median(knows)), fmt(percentile(knows, 90))],
      ['  of which: render the ruleset and the update (in-process)', fmt(median(renders)), fmt(percentile(renders, 90))],
      ['  of which: iptables-restore and the memo (the rest)', fmt(median(adds) - median(renders) - median(knows)), ''],
      ['  for comparison: iptables-save, reading the rules from the kernel', fmt(median(saves)), fmt(percentile(saves, 90))],
      ['whole `plumb run -d` process with those ports', fmt(runMs), ''],
    ],
  );
  const ok = median(adds) <= TARGET_FIREWALL_MS;
  console.log(`firewall step, ${label}: ${fmt(median(adds))} ms (target <= ${TARGET_FIREWALL_MS} ms) ${ok ? 'OK' : 'MISSED'}`);
  await plumb(['rm', '-f', 'many']);
  return ok;
}

console.log(`bench-ports: ${ROUNDS} rounds x ${SECONDS} s per iperf3 row; ${N} firewall applies; ${(await run(['nproc'])).trim()} CPUs`);
const a = await throughput();
console.log('');
const range = `20000-${20000 + PORTS - 1}:20000-${20000 + PORTS - 1}`;
const b = await firewall(`one range, -p ${range}`, [range]);
console.log('');
const scattered = Array.from({ length: PORTS }, (_, i) => `${20000 + 2 * i}:${1000 + 2 * i}`);
const c = await firewall(`${PORTS} scattered ports, -p 20000:1000 -p 20002:1002 ...`, scattered);
process.exitCode = a && b && c ? 0 : 1;
