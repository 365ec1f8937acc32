// Network modes other than "join a network": --network host (the process
// stays in the host's network stack), none (a sandbox with only lo) and
// container:NAME (share another container's sandbox). What each allows, what
// its sandbox is made of, and the /etc files its processes see — as Docker 20.10.
import { readFileSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { createUtsNs, registerNetns, removeNsFile } from '../../kernel/netns.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../store/model.js';
import { netnsDir, sandboxDir } from '../../store/paths.js';
import { findContainer, findNetwork } from '../../store/store.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { readHostResolvConf, renderHosts, renderResolvConf, sandboxFiles, writeSandboxFiles } from './etc-files.js';
import { sandboxNsFiles, sandboxPaths } from './sandbox.js';
import type { Transaction } from '../core/transaction.js';
import { resolveHostGateway } from '../../validate/extra-hosts.js';

// Docker's own wording (runconfig/errors.go), so course material still matches.
export const CONFLICT = {
  hostname: 'conflicting options: hostname and the network mode',
  containerLinks: "conflicting options: container type network can't be used with links. This would result in undefined behavior",
  hostLinks: "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
  dns: 'conflicting options: dns and the network mode',
  hosts: 'conflicting options: custom host-to-IP mapping and the network mode',
  mac: 'conflicting options: mac-address and the network mode',
  publish: 'conflicting options: port publishing and the container type network mode',
  expose: 'conflicting options: port exposing and the container type network mode',
  ip: 'user specified IP address is supported on user defined networks only',
  alias: 'network-scoped alias is supported only for containers in user defined networks',
} as const;

export type ModeKind = 'network' | 'host' | 'none' | 'container';

export function modeKind(networkMode: string): ModeKind {
  if (networkMode === 'host') return 'host';
  if (networkMode === 'none') return 'none';
  if (networkMode.startsWith('container:')) return 'container';
  return 'network';
}

/** The container whose sandbox a container:X container shares (by the id recorded at create). */
export function joinedContainer(data: StoreData, c: ContainerRecord): ContainerRecord | undefined {
  return modeKind(c.networkMode) === 'container' ? data.containers[c.networkMode.slice('container:'.length)] : undefined;
}

export interface ModeRequest {
  network: string;
  hostname?: string;
  aliases: string[];
  ip?: string;
  mac?: string;
  publish: ContainerRecord['publish'];
  /** -P: a random host port for every exposed port without a -p. */
  publishAll?: boolean;
  expose: ContainerRecord['expose'];
  links: ContainerRecord['links'];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
}

export interface ModePlan {
  /** What the record keeps: 'host', 'none', 'container:<64 hex>'. */
  networkMode: string;
  hostname?: string;
  publish: ContainerRecord['publish'];
  expose: ContainerRecord['expose'];
}

/**
 * For host, none and container:X: checks the options against the mode (Docker's
 * refusals) and says what the record holds. undefined for a network name.
 */
export function planMode(data: StoreData, req: ModeRequest): ModePlan | undefined {
  const kind = modeKind(req.network);
  if (kind === 'network') return undefined;
  if (req.ip) throw new PlumbError(CONFLICT.ip, 125);
  if (req.aliases.length) throw new PlumbError(CONFLICT.alias, 125);
  if (kind === 'host') {
    if (req.links.length) throw new PlumbError(CONFLICT.hostLinks, 125);
    if (req.mac) throw new PlumbError(CONFLICT.mac, 125);
    // Docker prints a warning and discards -p in host mode: the process binds the host's ports itself.
    if (req.publish.length || req.publishAll) process.stderr.write('WARNING: Published ports are discarded when using host network mode\n');
    return { networkMode: 'host', hostname: req.hostname ?? machineHostname(), publish: [], expose: [] };
  }
    // Without an endpoint there is no port map: Docker's PORTS column stays empty for host and none.
  if (kind === 'none') return { networkMode: 'none', hostname: req.hostname, publish: [], expose: [] };
  const ref = req.network.slice('container:'.length);
  if (!ref) throw new PlumbError('Invalid network mode: invalid container format container:<name|id>', 125);
  if (req.hostname) throw new PlumbError(CONFLICT.hostname, 125);
  if (req.links.length) throw new PlumbError(CONFLICT.containerLinks, 125);
  if (req.dns.length || req.dnsSearch.length || req.dnsOptions.length) throw new PlumbError(CONFLICT.dns, 125);
  if (req.extraHosts.length) throw new PlumbError(CONFLICT.hosts, 125);
  if (req.mac) throw new PlumbError(CONFLICT.mac, 125);
  if (req.publish.length || req.publishAll) throw new PlumbError(CONFLICT.publish, 125);
  if (req.expose.length) throw new PlumbError(CONFLICT.expose, 125);
  const target = findContainer(data, ref);
  if (!target) throw new PlumbError(`No such container: ${ref}`, 125);
  return { networkMode: `container:${target.id}`, publish: [], expose: [] };
}

/**
 * Builds the sandbox of a host or container:X container (none and networks use
 * the ordinary sandbox). host: only a UTS namespace, for the hostname; the
 * process stays in the host's network stack. container:X: a second handle on
 * X's network namespace (so this container keeps it even if X stops, as in
 * Docker: it is then left with only lo) and its own UTS namespace with X's hostname.
 */
export async function buildModeSandbox(ctx: Context, data: StoreData, c: ContainerRecord, tx: Transaction): Promise<boolean> {
  const kind = modeKind(c.networkMode);
  if (kind !== 'host' && kind !== 'container') return false;
  const p = sandboxPaths(ctx, c);
  let netns: string | undefined;
  let joined: string | undefined;
  if (kind === 'container') {
    const target = joinedContainer(data, c);
    if (!target) throw new PlumbError(`No such container: ${c.networkMode.slice('container:'.length)}`, 125);
    if (target.id === c.id) throw new PlumbError('cannot join own network', 125);
    if (target.state !== 'running' || !target.sandbox) throw new PlumbError(`cannot join network of a non running container: ${target.id}`, 125);
    c.hostname = target.hostname;
    joined = target.id;
    const targetNs = target.sandbox.netns;
    if (targetNs) {
      await tx.step(
        'join netns',
        () =>
          registerNetns(
            ctx.journal,
            target.name,
            targetNs,
            netnsDir(ctx.paths),
            c.id.slice(0, 12),
            `${c.name} shares ${target.name}'s network stack: same interfaces, same addresses, same lo`,
          ),
        () => removeNsFile(p.netns),
      );
      netns = p.netns;
    }
  }
  await tx.step(
    'sandbox uts',
    () => createUtsNs(ctx.journal, c.name, p.uts, c.hostname, `its own hostname, ${c.hostname}, in a UTS namespace`, sandboxNsFiles(ctx)),
    () => removeNsFile(p.uts),
  );
  c.sandbox = { id: c.id, netns, uts: p.uts, joined };
  return true;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The /etc files of host, none and container:X sandboxes (Docker's content); false for network modes. */
export function writeModeEtcFiles(ctx: Context, data: StoreData, c: ContainerRecord): boolean {
  const kind = modeKind(c.networkMode);
  if (kind === 'network') return false;
  let hosts: string;
  let resolvConf: string;
  const customDns = c.dns.length || c.dnsSearch.length || c.dnsOptions.length;
  const rendered = () =>
    renderResolvConf({ embeddedDns: false, dns: c.dns, dnsSearch: c.dnsSearch, dnsOptions: c.dnsOptions, hostResolvConf: readHostResolvConf() });
  if (kind === 'host') {
    // The host's own files: its resolvers on 127.x are reachable from its own network stack.
    const extra = resolveHostGateway(c.extraHosts, findNetwork(data, 'bridge')?.ipam?.gateway).map((e) => `${e.slice(e.indexOf(':') + 1)}\t${e.slice(0, e.indexOf(':'))}\n`).join('');
    const own = readText('/etc/hosts');
    hosts = (own && !own.endsWith('\n') ? `${own}\n` : own) + extra;
    resolvConf = customDns ? rendered() : readHostResolvConf();
  } else if (kind === 'none') {
    hosts = renderHosts({ extraHosts: resolveHostGateway(c.extraHosts, findNetwork(data, 'bridge')?.ipam?.gateway), links: [], own: [], hostname: c.hostname });
    resolvConf = rendered();
  } else {
    // Docker gives a container:X container only the header lines, and X's resolver configuration.
    hosts = renderHosts({ extraHosts: [], links: [], own: [], hostname: c.hostname });
    const target = joinedContainer(data, c);
    resolvConf = (target && readText(sandboxFiles(sandboxDir(ctx.paths, target.id)).resolvConf)) || rendered();
  }
  const why =
    kind === 'host'
      ? { hosts: "--network host: the host's own /etc/hosts (plus --add-host lines)", resolvConf: "--network host: the host's own resolvers" }
      : kind === 'none'
        ? { hosts: '--network none: only localhost and --add-host lines', resolvConf: "--network none has no network, but Docker still gives it the host's resolvers" }
        : { hosts: 'container:X: Docker writes only the localhost lines here', resolvConf: "container:X shares X's network stack, so it gets X's resolv.conf" };
  writeSandboxFiles(ctx.journal, sandboxDir(ctx.paths, c.id), { hosts, resolvConf, hostname: c.hostname }, why);
  return true;
}

/** The entry `inspect` shows under NetworkSettings.Networks for host and none (no endpoint, no address). */
export function modeNetwork(data: StoreData, c: ContainerRecord): NetworkRecord | undefined {
  const kind = modeKind(c.networkMode);
  return kind === 'host' || kind === 'none' ? findNetwork(data, kind) : undefined;
}
