// Container lifecycle: run/create, start, stop, restart, rm, exec. A container
// here is a sandbox plus its main process (COMMAND, or a holder), held by a
// monitor, with everything exec adds in the same cgroup (processes.ts).
// IMAGE is a label (images.ts says which ones mean a busybox root).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { traitsOf } from '../../drivers/traits.js';
import { newContainerId, type RandomBytes } from '../../ipam/ids.js';
import { execAttached, execDetached } from '../../kernel/container-exec.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../store/model.js';
import { containerNamed, findContainer, findNetwork } from '../../store/store.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { attachEndpoint } from '../networks/endpoints.js';
import { refreshLinkers, writeEtcFiles } from './etc-sync.js';
import { bindPorts, refuseUnfitPorts, whyPublish } from './ports.js';
import { syncFirewall } from '../firewall/sync.js';
import { ensureBuiltins } from '../networks/lifecycle.js';
import { buildSandbox, destroySandbox } from './sandbox.js';
import { buildModeSandbox, planMode, writeModeEtcFiles, type ModeRequest } from './modes.js';
import { declareIntent, withIntent } from '../core/intents.js';
import { firewallCheckpoint } from '../firewall/checkpoint.js';
import { gatewayNetworkId, needsEmbeddedDns, syncSandboxDns } from '../networks/connect.js';
import { containerFiles, reapExited, reapIfEnded, reapPublishers, removeRecord, stopInPlace } from './teardown.js';
import { checkLinkTargets, involvedInLinks, linkEnv } from './links.js';
import { Transaction } from '../core/transaction.js';
import { checkRequestedLocalAddress } from '../../drivers/local-addresses.js';
import { macHolder, macInUseMessage } from '../networks/addressing.js';
import { InputError } from '../../validate/errors.js';
import { normalizeContainerConfig } from '../../validate/container-config.js';
import { execCommand, mainAlive, startMain, waitMainExit, type ProcessOptions } from './processes.js';

/** What `run`/`create` asks: the network-mode request (modes.ts) plus the container's own settings. */
export interface RunRequest extends ModeRequest {
  name?: string;
  image: string;
  command: string[];
  autoRemove: boolean;
  env: Record<string, string>;
  /** -t and -i: a terminal for the main process, its stdin kept open. */
  tty?: boolean;
  interactive?: boolean;
  /** Generates a name `taken` does not have (Docker-style random names); `taken` looks each name up in the store. */
  randomName: (taken: Pick<ReadonlySet<string>, 'has'>) => string;
}

const NAME_RULE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Creates the record and starts it; returns the record as stored. */
export async function createAndStart(ctx: Context, req: RunRequest, start = true, proc?: ProcessOptions): Promise<ContainerRecord> {
  // Refuse bad input before anything is locked, logged or built (Docker's exit code for run errors: 125).
  try {
    req = { ...req, ...normalizeContainerConfig(req) };
  } catch (err) {
    if (err instanceof InputError) throw new PlumbError(err.message, 125);
    throw err;
  }
  // A network this host has not seen may be an overlay created on another host.
  if (req.network && !/^(bridge|host|none|container:.*)$/.test(req.network) && !findNetwork(ctx.store.read(), req.network)) {
    await (await import('../overlay/networks.js')).refreshClusterNetworks(ctx, { tolerant: true });
  }
  // Every kernel change is logged ahead, so a crash half-way leaves gc a list of what to remove.
  return withIntent(ctx, () => ctx.store.locked(async (data, commit) => {
    await reapExited(ctx, data);
    if (start && (req.publish.length || req.publishAll)) await reapPublishers(ctx, data);
    return Transaction.run('run', async (tx) => {
      await ensureBuiltins(ctx, data, tx);
      const c = newRecord(data, req, ctx.random);
      declareIdentity(ctx, c, req);
      data.containers[c.id] = c;
      tx.onRollback('record', () => {
        delete data.containers[c.id];
      });
      if (start) await startInTx(ctx, data, c, tx, proc);
      commit();
      return c;
    });
  }));
}

/** The container's random values, named once so a dry-run script can declare them at its top. */
function declareIdentity(ctx: Context, c: ContainerRecord, req: RunRequest): void {
  ctx.journal.declare('CONTAINER_ID', c.id, 'the container ID: 32 random bytes in hex');
  if (c.hostname === c.id.slice(0, 12)) ctx.journal.declare('SHORT_ID', c.hostname, "the ID's first 12 characters: the default hostname");
  if (req.name === undefined) ctx.journal.declare('NAME', c.name, 'a random name (adjective_scientist), as no --name was given');
}

/** Narrates the environment the container's processes get (it is not kernel state: each process is started with it). */
function narrateEnv(ctx: Context, data: StoreData, c: ContainerRecord): void {
  const env = { ...linkEnv(data, c), ...c.env };
  const keys = Object.keys(env);
  if (!keys.length) return;
  const fromLinks = Object.keys(linkEnv(data, c)).length > 0;
  ctx.journal.narrate(
    keys.map((k) => `${k}=${env[k]}`).join('\n'),
    `environment of every process plumb starts in ${c.name}${fromLinks ? ' (the *_PORT_* and *_NAME variables come from --link, like Docker\'s: they describe the target as it was when the link was made)' : ''}`,
    'environment',
  );
}

function newRecord(data: StoreData, req: RunRequest, random: RandomBytes): ContainerRecord {
  // Names are looked up one by one in the name index: a new container reads no other record.
  const taken = { has: (n: string) => !!containerNamed(data, n) };
  let name = req.name;
  if (name !== undefined) {
    if (!NAME_RULE.test(name)) throw new PlumbError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 125);
    name = name.replace(/^\//, '');
    const other = containerNamed(data, name);
    if (other) {
      throw new PlumbError(
        `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        125,
      );
    }
  } else {
    name = req.randomName(taken);
  }
  const id = newContainerId(random);
  const modePlan = planMode(data, req);
  const mode = modePlan?.networkMode ?? (req.network || 'bridge');
  const networks: ContainerRecord['networks'] = [];
  if (!modePlan) {
    const net = findNetwork(data, mode);
    if (!net) throw new PlumbError(`network ${mode} not found`, 125);
    if (!traitsOf(net).attach.run) {
      throw new PlumbError(`network ${mode} uses driver ${net.driver}, which this version of plumb cannot attach containers to`, 125);
    }
    if (req.aliases.length && net.name === 'bridge') throw new PlumbError('network-scoped alias is supported only for containers in user defined networks', 125);
    const holder = req.mac && macHolder(data, net.id, req.mac, { configured: true });
    if (holder) throw new PlumbError(macInUseMessage(req.mac!, net, holder), 125);
    // Addresses of global networks come from the cluster store, claimed when the endpoint is made.
    if (req.ip && traitsOf(net).scope === 'local') checkRequestedLocalAddress(net, req.ip);
    networks.push({ networkId: net.id, aliases: req.aliases, staticIp: req.ip, mac: req.mac });
  }
  for (const link of req.links) {
    const target = findContainer(data, link.target);
    if (!target) throw new PlumbError(`could not get container for ${link.target}`, 125);
  }
  return {
    id,
    name,
    image: req.image,
    command: req.command,
    created: new Date().toISOString(),
    hostname: modePlan?.hostname ?? req.hostname ?? id.slice(0, 12),
    state: 'created',
    autoRemove: req.autoRemove,
    networkMode: mode,
    networks,
    endpoints: {},
    publish: modePlan ? modePlan.publish : req.publish,
    publishAll: modePlan ? false : !!req.publishAll,
    ports: [],
    expose: modePlan ? modePlan.expose : req.expose,
    links: req.links,
    env: req.env,
    dns: req.dns,
    dnsSearch: req.dnsSearch,
    dnsOptions: req.dnsOptions,
    extraHosts: req.extraHosts,
    tty: !!req.tty,
    openStdin: !!req.interactive,
  };
}

/** Everything `start` does, inside an open transaction with the store locked. */
async function startInTx(ctx: Context, data: StoreData, c: ContainerRecord, tx: Transaction, proc?: ProcessOptions): Promise<void> {
  for (const link of c.links) {
    const target = findContainer(data, link.target);
    if (!target || target.state !== 'running') {
      throw new PlumbError(`Cannot link to a non running container: /${link.target} AS /${c.name}/${link.alias}`, 125);
    }
  }
  refuseUnfitPorts(data, c, ctx.hostNs());
  const files = containerFiles(ctx, c);
  // A first start makes the container's directory; if that start fails, the directory goes with it.
  if (!ctx.dryRun && !existsSync(files.dir)) {
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    tx.onRollback('container directory', () => rmSync(files.dir, { recursive: true, force: true }));
  }
  // Its /etc files are written on every start (the run directory may have been emptied by a reboot).
  if (!ctx.dryRun && !existsSync(files.etcDir)) tx.onRollback('/etc files', () => rmSync(files.etcDir, { recursive: true, force: true }));
  c.endpoints = {};
  c.nextIfIndex = 0;
  if (await buildModeSandbox(ctx, data, c, tx)) {
    tx.onRollback('sandbox', () => destroySandbox(ctx, c));
  } else {
    const ns = await buildSandbox(ctx, tx, c);
    tx.onRollback('sandbox', () => destroySandbox(ctx, c));
    // Docker's order decides which network holds the default route (see connect.ts).
    const gateway = gatewayNetworkId(data, c.networks.map((n) => n.networkId));
    for (const spec of c.networks) await attachEndpoint(ctx, data, c, tx, spec, ns, spec.networkId === gateway);
    c.embeddedDns = needsEmbeddedDns(data, c);
    c.hostsLines = undefined;
    await syncSandboxDns(ctx, data, c, ns, true, tx);
  }
  if (!writeModeEtcFiles(ctx, data, c)) writeEtcFiles(ctx, data, c);
  narrateEnv(ctx, data, c);
  c.ports = bindPorts(data, c, ctx.hostNs());
  c.state = 'running';
  c.startedAt = new Date().toISOString();
  c.exitCode = undefined;
  c.pid = undefined;
  // A later step may still fail: the rollback then puts the firewall back as it was.
  const linked = involvedInLinks(data, c);
  const justRead = c.ports.length || linked ? await firewallCheckpoint(ctx, tx) : undefined;
  if (c.ports.length) await syncFirewall(ctx, data, tx, whyPublish(c), justRead);
  // Legacy links open their exposed ports where icc is off: their rules follow both ends' addresses.
  else if (linked) await syncFirewall(ctx, data, tx, `the links of ${c.name}`, justRead);
  // Every running container has a main process (COMMAND or a holder), held by its monitor.
  await startMain(ctx, data, c, tx, proc ?? { tty: !!c.tty, stdin: !!c.openStdin });
}

function mustFind(data: StoreData, ref: string): ContainerRecord {
  const c = findContainer(data, ref);
  if (!c) throw new PlumbError(`No such container: ${ref}`);
  return c;
}

export async function stopContainers(ctx: Context, refs: string[], timeoutSec: number): Promise<{ done: string[]; errors: string[] }> {
  return forEachLocked(ctx, refs, async (data, c) => {
    if (c.state === 'running') {
      await stopInPlace(ctx, data, c, timeoutSec * 1000);
      if (c.autoRemove) removeRecord(ctx, data, c);
    }
  });
}

export async function startContainers(ctx: Context, refs: string[]): Promise<{ done: string[]; errors: string[] }> {
  return forEachLocked(ctx, refs, async (data, c) => {
    if (c.state === 'running') return;
    if (c.publish.length || c.publishAll) await reapPublishers(ctx, data, c.id);
    await Transaction.run('start', (tx) => startInTx(ctx, data, c, tx));
    refreshLinkers(ctx, data, c);
  });
}

export async function restartContainers(ctx: Context, refs: string[], timeoutSec: number): Promise<{ done: string[]; errors: string[] }> {
  return forEachLocked(ctx, refs, async (data, c) => {
    if (c.state === 'running') await stopInPlace(ctx, data, c, timeoutSec * 1000);
    if (c.publish.length || c.publishAll) await reapPublishers(ctx, data, c.id);
    await Transaction.run('start', (tx) => startInTx(ctx, data, c, tx));
    refreshLinkers(ctx, data, c);
  });
}

export async function removeContainers(ctx: Context, refs: string[], force: boolean): Promise<{ done: string[]; errors: string[] }> {
  // Journaled: a removal cut short is finished by gc (finishRemoval), not left half done.
  return withIntent(ctx, () =>
    forEachLocked(ctx, refs, async (data, c) => {
      if (c.state === 'running' && !force) {
        throw new PlumbError(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
      }
      declareIntent({ op: 'rm', container: c.id });
      await finishRemoval(ctx, data, c);
    }),
  );
}

/** Tears a container down (if it runs) and forgets it: rm -f, and gc finishing an rm that was cut short. */
export async function finishRemoval(ctx: Context, data: StoreData, c: ContainerRecord): Promise<void> {
  if (c.state === 'running') await stopInPlace(ctx, data, c, 0, 137);
  removeRecord(ctx, data, c);
}

async function forEachLocked(
  ctx: Context,
  refs: string[],
  fn: (data: StoreData, c: ContainerRecord) => Promise<void>,
): Promise<{ done: string[]; errors: string[] }> {
  const done: string[] = [];
  const errors: string[] = [];
  await ctx.store.locked(async (data, commit) => {
    await reapExited(ctx, data);
    for (const ref of refs) {
      try {
        // The container itself, if it ended unreported (a reboot, a monitor killed): as if reaped before.
        await reapIfEnded(ctx, data, mustFind(data, ref));
        await fn(data, mustFind(data, ref));
        done.push(ref);
      } catch (err) {
        errors.push((err as Error).message);
      }
      commit();
    }
  });
  return { done, errors };
}

/** `plumb run` without -d, after the CLI's attach ended: waits for the exit status and records how it ended. */
export async function waitAndRecord(ctx: Context, c: ContainerRecord): Promise<number> {
  const code = await waitMainExit(ctx, c);
  await ctx.store.locked(async (data, commit) => {
    const cur = data.containers[c.id];
    if (cur && cur.state === 'running' && cur.pid === c.pid) {
      await stopInPlace(ctx, data, cur, 0, code);
      if (cur.autoRemove) removeRecord(ctx, data, cur);
    }
    commit();
  });
  return code;
}

export async function execIn(
  ctx: Context,
  ref: string,
  argv: string[],
  interactive: boolean,
  env: Record<string, string>,
  detach = false,
): Promise<number> {
  const data = ctx.store.read();
  const c = findContainer(data, ref);
  if (!c) throw new PlumbError(`No such container: ${ref}`);
  if (c.state !== 'running' || !mainAlive(c)) throw new PlumbError(`Container ${c.id} is not running`);
  checkLinkTargets(data, c);
  try {
    const cmd = execCommand(c, argv, env, data);
    if (detach) {
      await execDetached(cmd.argv, cmd.env);
      return 0;
    }
    return await execAttached(cmd.argv, cmd.env, { stdin: interactive });
  } catch (err) {
    throw commandStartError(err);
  }
}

/**
 * A command that cannot be started exits as a shell's would, and as Docker's
 * exec does: 127 when it is not found, 126 when it is found but cannot run.
 */
export function commandStartError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  const message = (err as Error).message ?? String(err);
  if (code === 'ENOENT' && message.includes('exec: ')) return new PlumbError(message.slice(message.indexOf('exec: ')), 127);
  if (code === 'EACCES' && message.includes('exec: ')) return new PlumbError(message.slice(message.indexOf('exec: ')), 126);
  return err;
}

export function listNetworksOf(data: StoreData, c: ContainerRecord): NetworkRecord[] {
  return c.networks.map((n) => data.networks[n.networkId]).filter((n): n is NetworkRecord => !!n);
}
