// The resolver as a service: started on demand by the CLI as a detached
// `plumb dns serve` (its own session, so it outlives the command that started
// it), found again through a status file in the runtime dir, stopped by
// `plumb system reset`. One per plumb root; it lives in the network namespace
// of the plumb command that started it.
//
// With a cluster store it also knows the containers of other hosts on overlay
// networks: the command that starts it hands it the cluster settings, and a
// resolver started without them (or with others) is replaced by the first
// command that has them.
import { clusterConfig, type ClusterConfig } from '../cluster/config.js';
import { readNodeId } from '../cluster/node-id.js';
import { OverlayNameWatch } from '../cluster/names.js';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, processStartTime, stopProcess } from '../kernel/process.js';
import { startDaemon } from '../kernel/runner.js';
import type { Paths } from '../store/paths.js';
import { sandboxesServedInside } from './sandbox-path.js';
import { storeFile } from '../store/paths.js';

/** Port of plumb's namespace that sandboxes' 127.0.0.11:53 is sent to (Docker picks random ports; a fixed one survives a resolver restart). */
export const DEFAULT_DNS_PORT = 5311;

export interface ResolverStatus {
  pid: number;
  startTime: number;
  port: number;
  started: string;
  /** The cluster store and node name it watches for overlay names, if any. */
  cluster?: string;
}

/** How a resolver's cluster settings are compared: store URL and node name. */
const clusterKey = (cfg: ClusterConfig | undefined) => (cfg ? `${cfg.store} ${cfg.nodeName}` : undefined);

/** The cluster settings of this command, or none (a broken config file only matters to overlay commands, which report it). */
function currentCluster(): ClusterConfig | undefined {
  try {
    return clusterConfig();
  } catch {
    return undefined;
  }
}

export const resolverStatusFile = (p: Paths) => join(p.run, 'dns.json');
/** The resolver's control socket: commands ask it to listen inside a sandbox or stop (control.ts). */
export const resolverControlSocket = (p: Paths) => join(p.run, 'dns.sock');
export const resolverLogFile = (p: Paths) => join(p.run, 'dns.log');

export function configuredPort(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.PLUMB_DNS_PORT);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_DNS_PORT;
}

function readStatus(p: Paths): ResolverStatus | undefined {
  try {
    return JSON.parse(readFileSync(resolverStatusFile(p), 'utf8')) as ResolverStatus;
  } catch {
    return undefined;
  }
}

/** The running resolver of this root, if there is one (a stale status file does not count). */
export function resolverStatus(p: Paths): ResolverStatus | undefined {
  const s = readStatus(p);
  return s && isAlive(s.pid, s.startTime) ? s : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long a starting resolver waits for its first read of the overlay names before it serves anyway. */
const OVERLAY_FIRST_READ_MS = 2500;

/**
 * Starts the resolver unless it runs; resolves once it listens. A running
 * resolver that lacks this command's cluster settings is replaced.
 */
export async function ensureResolver(p: Paths): Promise<ResolverStatus> {
  const cluster = currentCluster();
  const running = resolverStatus(p);
  if (running && (!cluster || running.cluster === clusterKey(cluster))) return running;
  if (running) await stopResolver(p);
  rmSync(resolverStatusFile(p), { force: true });
  // Settings from flags or a config file travel explicitly, like the agent's.
  const child = await startDaemon(['dns', 'serve', '--state', p.state, '--run', p.run, '--port', String(configuredPort())], {
    logFile: resolverLogFile(p),
    env: { PLUMB_CLUSTER_STORE: cluster?.store, PLUMB_NODE_NAME: cluster?.nodeName },
    cwd: process.cwd(),
  });
  for (let waited = 0; waited < 10_000; waited += 20) {
    const s = readStatus(p);
    if (s && s.pid === child.pid) return s;
    if (child.exited() !== null) break;
    await sleep(20);
  }
  if (child.exited() === null) await stopProcess(child.pid, 0);
  const tail = existsSync(resolverLogFile(p)) ? readFileSync(resolverLogFile(p), 'utf8').trim().split('\n').slice(-3).join('; ') : '';
  throw new Error(`the embedded DNS resolver did not start${tail ? `: ${tail}` : ''} (log: ${resolverLogFile(p)})`);
}

/**
 * Has the running resolver listen on 127.0.0.11:53 inside the sandbox of
 * container `id` (namespace file `netns`), and waits until it does.
 */
export async function holdInSandbox(p: Paths, id: string, netns: string): Promise<void> {
  const { askControl } = await import('./control.js');
  const ask = () => askControl(resolverControlSocket(p), { op: 'hold', id, netns });
  const answer = await ask().catch(async () => {
    // A resolver without a control socket (started by an older plumb, or its socket file removed): replace it once.
    await stopResolver(p);
    await ensureResolver(p);
    return ask();
  });
  if (!answer.ok) throw new Error(`the embedded DNS resolver cannot listen inside ${netns}: ${answer.error ?? 'no reason given'}`);
}

/** Has the running resolver, if any, close its sockets inside container `id`'s sandbox (they keep the namespace alive). */
export async function releaseInSandbox(p: Paths, id: string): Promise<void> {
  if (!resolverStatus(p)) return;
  const { askControl } = await import('./control.js');
  await askControl(resolverControlSocket(p), { op: 'release', id }).catch(() => undefined);
}

/** Stops the resolver of this root, if it runs; true when there was one. */
export async function stopResolver(p: Paths): Promise<boolean> {
  const s = readStatus(p);
  rmSync(resolverStatusFile(p), { force: true });
  rmSync(resolverControlSocket(p), { force: true });
  if (!s || !isAlive(s.pid, s.startTime)) return false;
  await stopProcess(s.pid, 2000, { startTime: s.startTime });
  return true;
}

/**
 * `plumb dns serve`: the resolver itself, in the foreground. Writes the status
 * file once it listens; exits on SIGTERM/SIGINT, or when the status file no
 * longer names it (reset removed it, or a newer resolver took over).
 */
export async function serveResolver(p: Paths, port: number): Promise<void> {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const cluster = currentCluster();
  const overlay = new OverlayNameWatch();
  // Read until found, then kept: a host's node ID never changes while its state dir lives.
  let nodeId: string | undefined;
  overlay.localNodeId = () => (nodeId ??= readNodeId(p));
  // Loaded here: only the resolver's own process needs the server (and dgram, net).
  const { EmbeddedDns } = await import('./server.js');
  const { SandboxListeners } = await import('./sandbox-listeners.js');
  const { serveControl } = await import('./control.js');
  const dns = new EmbeddedDns({ storeFile: storeFile(p), port, log, overlay });
  await dns.listen();
  // Sandboxes it cannot be reached from (macvlan): sockets inside them, opened
  // now for the running ones (a restarted resolver serves them again before it
  // says "ready"), then kept in step with the store and the commands' requests.
  const inside = new SandboxListeners(dns, log);
  const reconcile = () => inside.reconcile(sandboxesServedInside(dns.storeView()));
  reconcile();
  const control = await serveControl(resolverControlSocket(p), (req) => {
    if (req.op === 'hold') inside.hold(req.id, req.netns, true);
    else inside.release(req.id, true);
    return { ok: true };
  });
  if (cluster) {
    // One read before saying "ready", so remote names answer at once; bounded, so an absent etcd delays nothing for long.
    const started = overlay.start(process.env, log).then(
      () => log(`watching overlay names in ${cluster.store} as ${cluster.nodeName} (node ${overlay.nodeId?.slice(0, 12) ?? 'without an ID yet'})`),
      (err: Error) => log(`overlay names unavailable: ${err.message}`),
    );
    await Promise.race([started, sleep(OVERLAY_FIRST_READ_MS)]);
  }
  const status: ResolverStatus = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? 0,
    port,
    started: new Date().toISOString(),
    cluster: clusterKey(cluster),
  };
  const file = resolverStatusFile(p);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status));
  renameSync(tmp, file);
  log(`listening on udp+tcp port ${port} (pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    const stop = (why: string) => {
      clearInterval(watchdog);
      overlay.stop();
      control.close();
      inside.close();
      dns.close();
      if (readStatus(p)?.pid === process.pid) rmSync(file, { force: true });
      log(`stopped (${why}); ${JSON.stringify(dns.stats)}`);
      resolve();
    };
    const watchdog = setInterval(() => {
      if (readStatus(p)?.pid !== process.pid) stop('status file gone');
      else reconcile();
    }, 1000);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
