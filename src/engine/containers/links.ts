// Legacy links (`--link NAME[:ALIAS]` on the default bridge), as Docker 20.10
// keeps them: a hosts line in the linking container (etc-sync.ts), environment
// variables describing the target's exposed ports, ACCEPT rules for exactly
// those ports when icc is off (firewall-sync.ts), and a refusal to exec into
// the linking container once its target is gone. On a user-defined network a
// link is only a name the embedded DNS gives the linking container (dns/names.ts).
import { bridgeNetwork } from '../../drivers/records.js';
import type { FirewallLink } from '../../firewall/index.js';
import type { ContainerRecord, EndpointRecord, StoreData } from '../../store/model.js';
import { containersWhere, findContainer, findNetwork } from '../../store/store.js';
import { compareCodeUnits } from '../../store/order.js';
import { PlumbError } from '../core/errors.js';

/** Whether c's links are legacy ones: it was started on the default bridge (Docker decides by its network mode). */
export function usesLegacyLinks(data: StoreData, c: ContainerRecord): boolean {
  const mode = findNetwork(data, c.networkMode);
  return !!mode && mode.builtin && mode.name === 'bridge';
}

/** The target's endpoint a legacy link points at: its default-bridge one. */
export function legacyLinkEndpoint(data: StoreData, target: ContainerRecord): EndpointRecord | undefined {
  const eps = Object.values(target.endpoints);
  return eps.find((e) => data.networks[e.networkId]?.name === 'bridge') ?? eps[0];
}

/** Ports a target exposes: --expose and the container side of -p, once each, in Docker's order (number, then tcp before udp). */
export function exposedPorts(t: ContainerRecord): Array<{ proto: 'tcp' | 'udp'; port: number }> {
  const seen = new Map<string, { proto: 'tcp' | 'udp'; port: number }>();
  for (const e of t.expose) seen.set(`${e.port}/${e.proto}`, { proto: e.proto, port: e.port });
  for (const p of t.publish) seen.set(`${p.containerPort}/${p.proto}`, { proto: p.proto, port: p.containerPort });
  return [...seen.values()].sort((a, b) => a.port - b.port || compareCodeUnits(a.proto, b.proto));
}

/** Docker's variable prefix for an alias: upper case, '-' as '_'. */
export function envPrefix(alias: string): string {
  return alias.toUpperCase().replace(/-/g, '_');
}

/**
 * The environment Docker gives a container for each legacy link, computed
 * afresh (as `docker exec` does, so a restarted target's new address shows):
 * ALIAS_PORT (the first port), ALIAS_PORT_<p>_<PROTO> with _ADDR/_PORT/_PROTO,
 * ALIAS_NAME=/<linking>/<alias>, ALIAS_ENV_<VAR> for the target's -e variables.
 */
export function linkEnv(data: StoreData, c: ContainerRecord): Record<string, string> {
  const env: Record<string, string> = {};
  if (!usesLegacyLinks(data, c)) return env;
  for (const link of c.links) {
    const t = findContainer(data, link.target);
    const ip = t && t.state === 'running' ? legacyLinkEndpoint(data, t)?.ip : undefined;
    if (!t || !ip) continue;
    const a = envPrefix(link.alias);
    const ports = exposedPorts(t);
    if (ports[0]) env[`${a}_PORT`] = `${ports[0].proto}://${ip}:${ports[0].port}`;
    for (const p of ports) {
      const base = `${a}_PORT_${p.port}_${p.proto.toUpperCase()}`;
      env[base] = `${p.proto}://${ip}:${p.port}`;
      env[`${base}_ADDR`] = ip;
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_PROTO`] = p.proto;
    }
    env[`${a}_NAME`] = `/${c.name}/${link.alias}`;
    for (const [k, v] of Object.entries(t.env)) {
      if (k === 'HOME' || k === 'PATH') continue;
      env[`${a}_ENV_${k}`] = v;
    }
  }
  return env;
}

/** Docker refuses to start or exec into a container whose legacy link target is not running. */
export function checkLinkTargets(data: StoreData, c: ContainerRecord): void {
  if (!usesLegacyLinks(data, c)) return;
  for (const link of c.links) {
    const t = findContainer(data, link.target);
    if (!t || t.state !== 'running') {
      throw new PlumbError(`Cannot link to a non running container: /${link.target} AS /${c.name}/${link.alias}`);
    }
  }
}

/** Whether starting or stopping c changes link rules: it links to someone, or someone links to it. */
export function involvedInLinks(data: StoreData, c: ContainerRecord): boolean {
  if (c.links.length) return true;
  return containersWhere(data, 'links').some((o) => o.links.some((l) => findContainer(data, l.target)?.id === c.id));
}

/** Firewall view of running legacy links on one bridge (rendered only where icc is off, like dockerd). */
export function firewallLinks(data: StoreData): FirewallLink[] {
  const out: FirewallLink[] = [];
  for (const c of containersWhere(data, 'links')) {
    if (c.state !== 'running' || !usesLegacyLinks(data, c)) continue;
    for (const link of c.links) {
      const t = findContainer(data, link.target);
      if (!t || t.state !== 'running') continue;
      const to = legacyLinkEndpoint(data, t);
      const from = to && c.endpoints[to.networkId];
      const bridge = bridgeNetwork(to && data.networks[to.networkId])?.bridge;
      if (!to || !from || !bridge) continue;
      out.push({ from: c.name, to: t.name, bridge, fromIp: from.ip, toIp: to.ip, ports: exposedPorts(t) });
    }
  }
  return out;
}
