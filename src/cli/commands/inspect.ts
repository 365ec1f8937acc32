// Gathers what `network inspect` and `inspect` print from the store and the
// kernel, and hands it to the Docker-shaped builders in format/inspect.ts.
// plumb adds what Docker cannot tell you: host veth names and ifindexes, and
// the firewall rules each network or container owns.
import type { Context } from '../../engine/core/context.js';
import { firewallState } from '../../engine/firewall/sync.js';
import { sandboxPaths } from '../../engine/containers/sandbox.js';
import { modeNetwork } from '../../engine/containers/modes.js';
import { join } from 'node:path';
import { rulesOwnedBy } from '../../firewall/index.js';
import { findNetwork } from '../../store/store.js';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { buildNetworkInspect, buildNetworkSettings, buildPortMap } from '../format/inspect.js';
import { monitorFiles } from '../../engine/containers/processes.js';
import { goStruct, sortedMap } from '../format/json.js';

async function hostIfindexes(ctx: Context, names: string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (!names.length || process.getuid?.() !== 0) return found;
  const wanted = new Set(names);
  for (const l of await ctx.hostRtnl().links()) if (wanted.has(l.name)) found.set(l.name, l.index);
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
    const indexes = await hostIfindexes(ctx, members.map((c) => c.endpoints[n.id]!.hostVeth ?? '').filter(Boolean));
    json.push(
      buildNetworkInspect({
        name: n.name,
        id: n.id,
        created: n.created,
        scope: n.scope,
        driver: n.driver,
        enableIPv6: false,
        ipam: {
          driver: 'default',
          // Docker prints null options and no gateway for the default bridge.
          options: n.name === 'bridge' || !n.ipam ? null : {},
          config: n.ipam
            ? [{ subnet: n.ipam.subnet, ipRange: n.ipam.ipRange, gateway: n.name === 'bridge' ? undefined : n.ipam.gateway, auxAddresses: n.ipam.aux }]
            : [],
        },
        internal: n.internal,
        attachable: n.attachable,
        ingress: false,
        containers: members.map((c) => {
          const ep = c.endpoints[n.id]!;
          return {
            id: c.id,
            name: c.name,
            endpointId: ep.id,
            macAddress: ep.mac,
            ipv4Address: `${ep.ip}/${ep.prefix}`,
            ipv6Address: '',
            plumb: {
              sandboxIfname: ep.ifname,
              hostVeth: ep.hostVeth,
              hostIfindex: ep.hostVeth ? indexes.get(ep.hostVeth) : undefined,
              firewallRules: rulesOwnedBy(fw, { kind: 'container', name: c.name }),
            },
          };
        }),
        options: n.options,
        labels: n.labels,
        plumb: n.driver === 'bridge' ? { bridge: n.bridge, firewallRules: rulesOwnedBy(fw, { kind: 'network', name: n.name }) } : undefined,
      }),
    );
  }
  return { json, missing };
}

/**
 * Config.ExposedPorts as Docker fills it: every --expose and every port a -p
 * publishes, as "80/tcp": {} (a set: Go's map of empty structs), left out when
 * there is none (omitempty).
 */
export function exposedPorts(c: Pick<ContainerRecord, 'expose' | 'publish'>): Record<string, object> | undefined {
  const keys = new Set([...c.expose.map((e) => `${e.port}/${e.proto}`), ...c.publish.map((p) => `${p.containerPort}/${p.proto}`)]);
  if (keys.size === 0) return undefined;
  const set: Record<string, object> = {};
  for (const k of keys) set[k] = goStruct({});
  return sortedMap(set);
}

export function containerInspectJson(ctx: Context, data: StoreData, c: ContainerRecord): unknown {
  const running = c.state === 'running';
  // host and none show their built-in network with no address, as Docker does; container:X shows none.
  const modeNet = modeNetwork(data, c);
  const specs = modeNet ? [{ networkId: modeNet.id, aliases: [] as string[], staticIp: undefined }] : c.networks;
  const networks = specs.flatMap((spec) => {
    const n = data.networks[spec.networkId];
    if (!n) return [];
    const ep = c.endpoints[n.id];
    return [
      {
        name: n.name,
        ipamConfig: spec.staticIp ? { ipv4Address: spec.staticIp } : null,
        links: null,
        aliases: n.name === 'bridge' || modeNet ? null : [...spec.aliases, c.id.slice(0, 12)],
        networkId: n.id,
        endpointId: ep?.id ?? '',
        gateway: ep?.gateway ?? '',
        ipAddress: ep?.ip ?? '',
        ipPrefixLen: ep?.prefix ?? 0,
        macAddress: ep?.mac ?? '',
        plumb: ep ? { sandboxIfname: ep.ifname, hostVeth: ep.hostVeth } : undefined,
      },
    ];
  });
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
    LogPath: monitorFiles(ctx, c).log,
    Name: `/${c.name}`,
    HostConfig: {
      NetworkMode: c.networkMode === 'bridge' ? 'default' : c.networkMode,
      PortBindings: buildPortMap(
        c.publish.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPort: p.hostPortStart })),
      ),
      Links: c.links.length ? c.links.map((l) => `/${l.target}:/${c.name}/${l.alias}`) : null,
      Dns: c.dns,
      DnsSearch: c.dnsSearch,
      DnsOptions: c.dnsOptions,
      ExtraHosts: c.extraHosts.length ? c.extraHosts : null,
      AutoRemove: c.autoRemove,
    },
    Config: {
      Hostname: c.hostname,
      Domainname: '',
      User: '',
      Tty: !!c.tty,
      OpenStdin: !!c.openStdin,
      ExposedPorts: exposedPorts(c),
      Env: Object.entries(c.env).map(([k, v]) => `${k}=${v}`),
      Cmd: c.command.length ? c.command : null,
      Image: c.image,
    },
    NetworkSettings: buildNetworkSettings({
      sandboxId: running && c.sandbox && !c.sandbox.joined ? c.sandbox.id : '',
      sandboxKey: !running || !c.sandbox || c.sandbox.joined ? '' : c.networkMode === 'host' ? join(ctx.paths.run, 'netns', 'default') : sandboxPaths(ctx, c).netns,
      bindings: c.ports,
      exposed: c.expose,
      networks,
    }),
  };
}
