// The one rule for which endpoint holds a sandbox's default route, both ways
// round: the network that sorts first by name among those with a gateway
// wins, whatever order the container joined them in; an overlay network's
// route goes through the container's plumb_gwbridge endpoint.
import { describe, expect, it } from 'vitest';
import { defaultRouteEndpoint } from '../../src/engine/networks/default-route.js';
import type { ContainerRecord, StoreData } from '../../src/store/model.js';
import { containerRecord, networkRecord } from '../helpers/records.js';

function store(): StoreData {
  const networks = [
    networkRecord('nb', 'bridge', '172.17.0.0/16', { builtin: true }),
    networkRecord('nu', 'un', '10.77.0.0/24'),
    networkRecord('na', 'aaa', '10.78.0.0/24'),
    networkRecord('nz', 'zzz', '10.79.0.0/24'),
    networkRecord('ni', 'inner', '10.80.0.0/24', { internal: true }),
    networkRecord('no', 'ov', '10.0.0.0/24', { driver: 'overlay', scope: 'global' }),
    networkRecord('ng', 'plumb_gwbridge', '172.18.0.0/16'),
  ];
  return { version: 1, networks: Object.fromEntries(networks.map((n) => [n.id, n])), containers: {}, sysctls: [] };
}

/** A container that joined `ids` in that order, each endpoint with its network's gateway (none on an internal one). */
function joined(data: StoreData, ids: string[], extra: string[] = []): ContainerRecord {
  const endpoints: ContainerRecord['endpoints'] = {};
  for (const [i, id] of [...ids, ...extra].entries()) {
    const net = data.networks[id]!;
    endpoints[id] = { id: `ep-${id}`, networkId: id, ifname: `eth${i}`, ip: net.ipam!.subnet.replace(/0\/\d+$/, '2'), prefix: 24, mac: '', aliases: [], gateway: net.internal ? undefined : net.ipam!.gateway };
  }
  return containerRecord('c', { networks: ids.map((networkId) => ({ networkId, aliases: [] })), endpoints });
}

describe('defaultRouteEndpoint', () => {
  const data = store();
  it('run --net un, then connect bridge: bridge sorts first, so it holds the route', () => {
    expect(defaultRouteEndpoint(data, joined(data, ['nu', 'nb']))?.networkId).toBe('nb');
  });
  it('run --net bridge, then connect un: the route stays on bridge', () => {
    expect(defaultRouteEndpoint(data, joined(data, ['nb', 'nu']))?.networkId).toBe('nb');
  });
  it('run --net aaa, then connect zzz: the route stays on aaa; and the other way round it moves to aaa', () => {
    expect(defaultRouteEndpoint(data, joined(data, ['na', 'nz']))?.ifname).toBe('eth0');
    expect(defaultRouteEndpoint(data, joined(data, ['nz', 'na']))?.ifname).toBe('eth1');
  });
  it('an internal network never holds it, even when it sorts first; alone it leaves no default route', () => {
    expect(defaultRouteEndpoint(data, joined(data, ['ni', 'nz']))?.networkId).toBe('nz');
    expect(defaultRouteEndpoint(data, joined(data, ['ni']))).toBeUndefined();
  });
  it('a network the container lists but has no endpoint on yet (a connect under way) is not counted', () => {
    const c = joined(data, ['nz']);
    c.networks.push({ networkId: 'na', aliases: [] });
    expect(defaultRouteEndpoint(data, c)?.networkId).toBe('nz');
  });
  it('an overlay container: the route goes through its plumb_gwbridge endpoint, which is not one of its networks', () => {
    const c = joined(data, ['no'], ['ng']);
    expect(defaultRouteEndpoint(data, c)?.networkId).toBe('ng');
    expect(defaultRouteEndpoint(data, joined(data, ['no', 'nb'], ['ng']))?.networkId).toBe('nb');
  });
});
