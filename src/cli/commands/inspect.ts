// JSON for `network inspect` and `inspect`: Docker's schema, plus a "Plumb"
// key with what Docker cannot tell you (host veth names and ifindexes, the
// firewall rules each network or container owns).
import type { Context } from '../../engine/context.js';
import { firewallState } from '../../engine/firewall-sync.js';
import { rulesOwnedBy } from '../../firewall/index.js';
import { findNetwork } from '../../store/store.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../store/model.js';
import { sandboxPaths } from '../../engine/sandbox.js';
import { portsMap } from './ports-map.js';

async function vethIndexes(ctx: Context, names: string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (!names.length || process.getuid?.() !== 0) return found;
  for (const l of await ctx.hostRtnl().links()) if (names.includes(l.name)) found.set(l.name, l.index);
  return found;
}

export async function networkInspectJson(ctx: Context, refs: string[]): Promise<{ json: unknown[]; missing: string[] }> {
  const data = ctx.store.read();
  const json: unknown[] = [];
  const missing: string[] = [];
  const fw = firewallState(data);
  for (const ref of refs) {
    const n = findNetwork(data, ref);
    if (!n) {
      missing.push(ref);
      continue;
    }
    const members = Object.values(data.containers).filter((c) => c.endpoints[n.id]);
    const indexes = await vethIndexes(
      ctx,
      members.map((c) => c.endpoints[n.id]!.hostVeth!).filter(Boolean),
    );
    const containers: Record<string, unknown> = {};
    const endpoints: Record<string, unknown> = {};
    for (const c of members) {
      const ep = c.endpoints[n.id]!;
      containers[c.id] = {
        Name: c.name,
        EndpointID: ep.id,
        MacAddress: ep.mac,
        IPv4Address: `${ep.ip}/${ep.prefix}`,
        IPv6Address: '',
      };
      endpoints[c.name] = {
        HostVeth: ep.hostVeth ?? null,
        HostVethIfindex: ep.hostVeth ? indexes.get(ep.hostVeth) ?? null : null,
        SandboxInterface: ep.ifname,
        FirewallRules: rulesOwnedBy(fw, { kind: 'container', name: c.name }),
      };
    }
    const config: Record<string, unknown>[] = [];
    if (n.ipam) {
      const entry: Record<string, unknown> = { Subnet: n.ipam.subnet };
      if (n.ipam.ipRange) entry.IPRange = n.ipam.ipRange;
      // Docker omits the gateway of the default bridge from inspect.
      if (n.name !== 'bridge') entry.Gateway = n.ipam.gateway;
      if (Object.keys(n.ipam.aux).length) entry.AuxiliaryAddresses = n.ipam.aux;
      config.push(entry);
    }
    json.push({
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: n.scope,
      Driver: n.driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: n.name === 'bridge' || !n.ipam ? null : {}, Config: config },
      Internal: n.internal,
      Attachable: n.attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: n.options,
      Labels: n.labels,
      Plumb: {
        Bridge: n.bridge ?? null,
        Endpoints: endpoints,
        FirewallRules: n.driver === 'bridge' ? rulesOwnedBy(fw, { kind: 'network', name: n.name }) : [],
      },
    });
  }
  return { json, missing };
}

export function containerInspectJson(ctx: Context, data: StoreData, c: ContainerRecord): unknown {
  const networks: Record<string, unknown> = {};
  for (const spec of c.networks) {
    const n: NetworkRecord | undefined = data.networks[spec.networkId];
    if (!n) continue;
    const ep = c.endpoints[n.id];
    networks[n.name] = {
      IPAMConfig: spec.staticIp ? { IPv4Address: spec.staticIp } : null,
      Links: null,
      Aliases: n.name === 'bridge' ? null : [...spec.aliases, c.id.slice(0, 12)],
      NetworkID: n.id,
      EndpointID: ep?.id ?? '',
      Gateway: ep?.gateway ?? '',
      IPAddress: ep?.ip ?? '',
      IPPrefixLen: ep?.prefix ?? 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: ep?.mac ?? '',
      DriverOpts: null,
    };
  }
  const bridgeNet = Object.values(data.networks).find((n) => n.name === 'bridge');
  const onDefault = bridgeNet ? c.endpoints[bridgeNet.id] : undefined;
  const running = c.state === 'running';
  return {
    Id: c.id,
    Created: c.created,
    Path: c.command[0] ?? '',
    Args: c.command.slice(1),
    State: {
      Status: c.state,
      Running: running,
      Pid: c.pid ?? 0,
      ExitCode: c.exitCode ?? 0,
      StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: c.image,
    Name: `/${c.name}`,
    HostConfig: {
      NetworkMode: c.networkMode === 'bridge' ? 'default' : c.networkMode,
      PortBindings: portsMap(c.publish.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPort: p.hostPortStart ? String(p.hostPortStart) : '' }))),
      Links: c.links.length ? c.links.map((l) => `/${l.target}:/${c.name}/${l.alias}`) : null,
      Dns: c.dns,
      DnsSearch: c.dnsSearch,
      DnsOptions: c.dnsOptions,
      ExtraHosts: c.extraHosts.length ? c.extraHosts : null,
      AutoRemove: c.autoRemove,
    },
    Config: { Hostname: c.hostname, Image: c.image, Cmd: c.command.length ? c.command : null, Env: Object.entries(c.env).map(([k, v]) => `${k}=${v}`) },
    NetworkSettings: {
      Bridge: '',
      SandboxID: running && c.sandbox ? c.sandbox.id : '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: portsMap(c.ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPort: String(p.hostPort) })), c.expose),
      SandboxKey: running && c.sandbox ? sandboxPaths(ctx, c).netns : '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: onDefault?.id ?? '',
      Gateway: onDefault?.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: onDefault?.ip ?? '',
      IPPrefixLen: onDefault?.prefix ?? 0,
      IPv6Gateway: '',
      MacAddress: onDefault?.mac ?? '',
      Networks: networks,
    },
  };
}
