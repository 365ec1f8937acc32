// Shared by the benchmarks: clocks, spawning a process and waiting for it,
// statistics, the CNI reference plugins, and a plain-text table.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

/** Runs argv to completion; rejects with its stderr when it fails. */
export function run(argv, { input, env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: env ?? process.env, cwd });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve(stdout);
      else reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim() || stdout.trim()}`));
    });
    if (input !== undefined) {
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/** Milliseconds `fn` takes. */
export async function timed(fn) {
  const t0 = now();
  await fn();
  return now() - t0;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Prints rows (arrays of cells) as an aligned table; numbers right-aligned. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(all[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
}

/** Node's own startup (`node -e 0`), median of a few runs: the floor under any node process. */
export async function nodeStartupMs(runs = 10, env = process.env) {
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(await timed(() => run([process.execPath, '-e', '0'], { env })));
  return median(xs);
}

export const CNI_DIR = '/usr/lib/cni';

/**
 * The CNI reference bridge plugin as a container runtime calls it: veth into the
 * sandbox, host end on the bridge, host-local IPAM (private dataDir), gateway
 * address on the bridge and a default route in the sandbox. No masquerade, so
 * it writes no iptables rules.
 */
export function cniBridgeConfig({ bridge, subnet, gateway, dataDir }) {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: `${bridge}-net`,
    type: 'bridge',
    bridge,
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: false,
    hairpinMode: false,
    ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], dataDir },
  });
}

export const CNI_LOOPBACK_CONFIG = JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' });

/** One plugin invocation (ADD or DEL); runs in the caller's network namespace (the lab host). */
export function cni(plugin, command, { containerId, netns, ifname, config }) {
  return run([`${CNI_DIR}/${plugin}`], {
    input: config,
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netns,
      CNI_IFNAME: ifname,
      CNI_PATH: CNI_DIR,
    },
  });
}

/** The 1-minute load average: benchmarks on a busy machine read high. */
export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

/** The environment without NODE_EXTRA_CA_CERTS, which makes every node process parse a CA bundle at start. */
export function envWithoutExtraCa() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** One line on node's own start-up, with and without NODE_EXTRA_CA_CERTS when it is set. */
export async function nodeStartupLine() {
  const startup = await nodeStartupMs();
  const without = process.env.NODE_EXTRA_CA_CERTS ? await nodeStartupMs(10, envWithoutExtraCa()) : undefined;
  return `node startup (node -e 0, median of 10): ${fmt(startup)} ms${without === undefined ? '' : `; with NODE_EXTRA_CA_CERTS unset: ${fmt(without)} ms`}`;
}

/** The engine's request for `plumb run -d --name NAME --network NETWORK alpine` (no COMMAND), for in-process runs. */
export function runRequest(name, network) {
  return {
    name,
    image: 'alpine',
    command: [],
    network,
    autoRemove: false,
    aliases: [],
    publish: [],
    expose: [],
    links: [],
    env: {},
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
    randomName: () => name,
  };
}
