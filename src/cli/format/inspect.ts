// The JSON documents of `network inspect` and of a container's
// NetworkSettings, in Docker 20.10's shape: same keys, same key order, maps
// with sorted keys, null where Docker has null. Facts that only plumb has
// (host-side veth, ifindex, firewall rules) go under a separate `Plumb` key
// so that the Docker-shaped part stays byte-identical.

import { goJson, sortedMap } from './json.js';
import { rfc3339Nano, toEpochNs } from './time.js';
import type { ExposedPort, PortBinding } from './ports.js';

// ---------------------------------------------------------------- network inspect

export interface IpamPoolInput {
  subnet: string;
  ipRange?: string;
  gateway?: string;
  /** name -> address; omitted from the output when empty. */
  auxAddresses?: Readonly<Record<string, string>>;
}

/** plumb-only facts about one endpoint of a network. */
export interface EndpointPlumbInput {
  /** Host end of the veth pair, e.g. `vethc0a8002`. */
  hostVeth?: string;
  hostIfindex?: number;
  /** Interface name inside the sandbox, e.g. `eth0`. */
  sandboxIfname?: string;
  /** The firewall rules owned by this endpoint, as iptables-save lines. */
  firewallRules?: readonly string[];
}

export interface NetworkEndpointInput {
  /** Container ID (64 hex), or a special key such as `lb-ov_net1`. */
  id: string;
  name: string;
  endpointId: string;
  macAddress: string;
  /** With prefix length: `172.18.0.2/16`; '' when none. */
  ipv4Address: string;
  ipv6Address: string;
  plumb?: EndpointPlumbInput;
}

/** plumb-only facts about a network. */
export interface NetworkPlumbInput {
  /** Kernel bridge name, e.g. `br-bdab2f2abfbe` or `plumb0`. */
  bridge?: string;
  /** Network-wide firewall rules, as iptables-save lines. */
  firewallRules?: readonly string[];
  [key: string]: unknown;
}

export interface NetworkInspectInput {
  name: string;
  id: string;
  /** Creation time: epoch ns (bigint), epoch ms (number), a Date, or an RFC 3339 string used as is. */
  created: bigint | number | Date | string;
  scope: string;
  driver: string;
  enableIPv6: boolean;
  ipam: {
    driver: string;
    /** null prints `null` (the default bridge), {} prints `{}` (user networks). */
    options: Readonly<Record<string, string>> | null;
    config: readonly IpamPoolInput[];
  };
  internal: boolean;
  attachable: boolean;
  ingress: boolean;
  configFrom?: string;
  configOnly?: boolean;
  containers: readonly NetworkEndpointInput[];
  options: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** Overlay networks: the hosts taking part; omitted when absent. */
  peers?: ReadonlyArray<{ name: string; ip: string }>;
  plumb?: NetworkPlumbInput;
}

function createdText(t: NetworkInspectInput['created']): string {
  if (typeof t === 'string') return t;
  if (typeof t === 'bigint') return rfc3339Nano(t);
  return rfc3339Nano(toEpochNs(t));
}

function nullableMap(m: Readonly<Record<string, string>> | null | undefined): Record<string, string> | null {
  return m ? sortedMap(m) : null;
}

function plumbEndpoint(p: EndpointPlumbInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.sandboxIfname !== undefined) out.Interface = p.sandboxIfname;
  if (p.hostVeth !== undefined) out.HostVeth = p.hostVeth;
  if (p.hostIfindex !== undefined) out.HostIfindex = p.hostIfindex;
  if (p.firewallRules !== undefined) out.FirewallRules = [...p.firewallRules];
  return out;
}

/** The object `network inspect` prints for one network. */
export function buildNetworkInspect(n: NetworkInspectInput): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  const endpointExtras: Record<string, unknown> = {};
  for (const c of [...n.containers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    containers[c.id] = {
      Name: c.name,
      EndpointID: c.endpointId,
      MacAddress: c.macAddress,
      IPv4Address: c.ipv4Address,
      IPv6Address: c.ipv6Address,
    };
    if (c.plumb) endpointExtras[c.id] = plumbEndpoint(c.plumb);
  }
  const out: Record<string, unknown> = {
    Name: n.name,
    Id: n.id,
    Created: createdText(n.created),
    Scope: n.scope,
    Driver: n.driver,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipam.driver,
      Options: nullableMap(n.ipam.options),
      Config: n.ipam.config.map((p) => {
        const pool: Record<string, unknown> = { Subnet: p.subnet };
        if (p.ipRange) pool.IPRange = p.ipRange;
        if (p.gateway) pool.Gateway = p.gateway;
        if (p.auxAddresses && Object.keys(p.auxAddresses).length > 0) pool.AuxiliaryAddresses = sortedMap(p.auxAddresses);
        return pool;
      }),
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: n.ingress,
    ConfigFrom: { Network: n.configFrom ?? '' },
    ConfigOnly: n.configOnly ?? false,
    Containers: sortedMap(containers),
    Options: sortedMap(n.options),
    Labels: sortedMap(n.labels),
  };
  if (n.peers && n.peers.length > 0) out.Peers = n.peers.map((p) => ({ Name: p.name, IP: p.ip }));
  if (n.plumb || Object.keys(endpointExtras).length > 0) {
    const plumb: Record<string, unknown> = {};
    const { bridge, firewallRules, ...rest } = n.plumb ?? {};
    if (bridge !== undefined) plumb.Bridge = bridge;
    if (firewallRules !== undefined) plumb.FirewallRules = [...firewallRules];
    Object.assign(plumb, rest);
    if (Object.keys(endpointExtras).length > 0) plumb.Endpoints = sortedMap(endpointExtras);
    out.Plumb = plumb;
  }
  return out;
}

// ---------------------------------------------------------------- container NetworkSettings

export interface EndpointIpamInput {
  ipv4Address?: string;
  ipv6Address?: string;
  linkLocalIPs?: readonly string[];
}

export interface ContainerNetworkInput {
  /** Network name: the key under Networks. */
  name: string;
  /** null prints `null` (no --ip given at run), {} prints `{}` (connect without --ip). */
  ipamConfig?: EndpointIpamInput | null;
  links?: readonly string[] | null;
  aliases?: readonly string[] | null;
  networkId: string;
  endpointId: string;
  gateway: string;
  ipAddress: string;
  ipPrefixLen: number;
  ipv6Gateway?: string;
  globalIPv6Address?: string;
  globalIPv6PrefixLen?: number;
  macAddress: string;
  driverOpts?: Readonly<Record<string, string>> | null;
  plumb?: EndpointPlumbInput;
}

export interface NetworkSettingsInput {
  bridge?: string;
  sandboxId: string;
  sandboxKey: string;
  hairpinMode?: boolean;
  linkLocalIPv6Address?: string;
  linkLocalIPv6PrefixLen?: number;
  /** Published bindings (as bound: 0.0.0.0 and :: separately). */
  bindings?: readonly PortBinding[];
  /** Exposed ports; those without a binding print as `"80/tcp": null`. */
  exposed?: readonly ExposedPort[];
  networks: readonly ContainerNetworkInput[];
  /**
   * Which network fills the top-level EndpointID/Gateway/IPAddress/...
   * fields. Docker uses the default bridge network only; defaults to 'bridge'.
   */
  defaultNetwork?: string;
}

/** Docker's NetworkSettings.Ports: `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"443/tcp":null}`. */
export function buildPortMap(
  bindings: readonly PortBinding[] = [],
  exposed: readonly ExposedPort[] = [],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const e of exposed) map[`${e.port}/${e.proto}`] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.proto}`;
    const list = map[key] ?? [];
    list.push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
    map[key] = list;
  }
  return sortedMap(map);
}

function endpointSettings(n: ContainerNetworkInput): Record<string, unknown> {
  let ipam: Record<string, unknown> | null = null;
  if (n.ipamConfig) {
    ipam = {};
    if (n.ipamConfig.ipv4Address) ipam.IPv4Address = n.ipamConfig.ipv4Address;
    if (n.ipamConfig.ipv6Address) ipam.IPv6Address = n.ipamConfig.ipv6Address;
    if (n.ipamConfig.linkLocalIPs && n.ipamConfig.linkLocalIPs.length > 0) ipam.LinkLocalIPs = [...n.ipamConfig.linkLocalIPs];
  }
  return {
    IPAMConfig: ipam,
    Links: n.links ? [...n.links] : null,
    Aliases: n.aliases ? [...n.aliases] : null,
    NetworkID: n.networkId,
    EndpointID: n.endpointId,
    Gateway: n.gateway,
    IPAddress: n.ipAddress,
    IPPrefixLen: n.ipPrefixLen,
    IPv6Gateway: n.ipv6Gateway ?? '',
    GlobalIPv6Address: n.globalIPv6Address ?? '',
    GlobalIPv6PrefixLen: n.globalIPv6PrefixLen ?? 0,
    MacAddress: n.macAddress,
    DriverOpts: n.driverOpts ? sortedMap(n.driverOpts) : null,
  };
}

/** A container's `NetworkSettings` as `inspect` prints it. */
export function buildNetworkSettings(s: NetworkSettingsInput): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  const extras: Record<string, unknown> = {};
  for (const n of s.networks) {
    networks[n.name] = endpointSettings(n);
    if (n.plumb) extras[n.name] = plumbEndpoint(n.plumb);
  }
  const def = s.networks.find((n) => n.name === (s.defaultNetwork ?? 'bridge'));
  const out: Record<string, unknown> = {
    Bridge: s.bridge ?? '',
    SandboxID: s.sandboxId,
    HairpinMode: s.hairpinMode ?? false,
    LinkLocalIPv6Address: s.linkLocalIPv6Address ?? '',
    LinkLocalIPv6PrefixLen: s.linkLocalIPv6PrefixLen ?? 0,
    Ports: buildPortMap(s.bindings, s.exposed),
    SandboxKey: s.sandboxKey,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: def?.endpointId ?? '',
    Gateway: def?.gateway ?? '',
    GlobalIPv6Address: def?.globalIPv6Address ?? '',
    GlobalIPv6PrefixLen: def?.globalIPv6PrefixLen ?? 0,
    IPAddress: def?.ipAddress ?? '',
    IPPrefixLen: def?.ipPrefixLen ?? 0,
    IPv6Gateway: def?.ipv6Gateway ?? '',
    MacAddress: def?.macAddress ?? '',
    Networks: sortedMap(networks),
  };
  if (Object.keys(extras).length > 0) out.Plumb = { Networks: sortedMap(extras) };
  return out;
}

// ---------------------------------------------------------------- output

/**
 * What `inspect` prints for a list of objects: a JSON array indented with
 * four spaces, '<', '>' and '&' escaped as the daemon does, and a newline.
 * An empty list prints `[]`.
 */
export function renderInspect(items: readonly unknown[]): string {
  return goJson(items, { indent: '    ', escapeHtml: true }) + '\n';
}

/** Compact JSON as the `json` template function writes it (`{{json .NetworkSettings}}`). */
export function compactJson(value: unknown): string {
  return goJson(value);
}
