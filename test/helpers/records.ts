// Store records for unit tests: a running container or a network with every
// field a real one has, so a test states only what it is about.
import type { BridgeSettings, ContainerRecord, MacvlanSettings, NetworkCommon, NetworkRecord, OverlayNetwork } from '../../src/store/model.js';

/** A running container named `name` on no network; `fields` override any default. */
export function containerRecord(name: string, fields: Partial<ContainerRecord> = {}): ContainerRecord {
  const id = (fields.id ?? name).padEnd(64, '0');
  return {
    name,
    image: 'busybox',
    command: [],
    created: '',
    hostname: id.slice(0, 12),
    state: 'running',
    autoRemove: false,
    networkMode: 'bridge',
    networks: [],
    endpoints: {},
    publish: [],
    ports: [],
    expose: [],
    links: [],
    env: {},
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
    ...fields,
    id,
  };
}

/** Endpoints from [networkId, ip, ifname, aliases?] rows, with the given prefix length. */
export function endpointRecords(owner: string, rows: Array<[string, string, string, string[]?]>, prefix: number): ContainerRecord['endpoints'] {
  const endpoints: ContainerRecord['endpoints'] = {};
  for (const [networkId, ip, ifname, aliases] of rows) {
    endpoints[networkId] = { id: `ep-${owner}-${networkId}`, networkId, ifname, ip, prefix, mac: '', aliases: aliases ?? [] };
  }
  return endpoints;
}

/** Fields a test may set on a network: the common ones, and those of its driver (bridge unless it names another). */
export type NetworkFields = Partial<NetworkCommon> &
  (
    | ({ driver?: 'bridge' } & Partial<Omit<BridgeSettings, 'driver'>>)
    | ({ driver: 'macvlan' } & Partial<Omit<MacvlanSettings, 'driver'>>)
    | ({ driver: 'overlay' } & Partial<Pick<OverlayNetwork, 'mtu' | 'vni' | 'overlaySandbox'>>)
    | { driver: 'host' | 'null' }
  );

/** The fields every network has, with a /N subnet whose gateway is its .1: the start of any driver's record. */
export function networkCommon(id: string, name: string, subnet: string): NetworkCommon {
  return {
    id,
    name,
    scope: 'local',
    created: '',
    internal: false,
    attachable: false,
    builtin: false,
    labels: {},
    options: {},
    ipam: { subnet, gateway: subnet.replace(/0\/\d+$/, '1'), aux: {}, userSubnet: false, userGateway: false },
    allocated: {},
  };
}

/** A network record with a /N subnet whose gateway is its .1; `fields` override any default (each driver's own fields get its usual values). */
export function networkRecord(id: string, name: string, subnet: string, fields: NetworkFields = {}): NetworkRecord {
  const common = networkCommon(id, name, subnet);
  if (fields.driver === 'macvlan') return { ...common, parent: 'eth0', ...fields, driver: 'macvlan' };
  if (fields.driver === 'overlay') return { ...common, vni: 256, mtu: 1450, ...fields, driver: 'overlay' };
  if (fields.driver === 'host' || fields.driver === 'null') return { ...common, ...fields, driver: fields.driver };
  return { ...common, bridge: `br-${id.slice(0, 12)}`, icc: true, masquerade: true, ...fields, driver: 'bridge' };
}
