// Store records for unit tests: a running container or a network with every
// field a real one has, so a test states only what it is about.
import type { ContainerRecord, NetworkRecord } from '../../src/store/model.js';

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

/** A network record with a /N subnet whose gateway is its .1; `fields` override any default. */
export function networkRecord(id: string, name: string, subnet: string, fields: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id,
    name,
    driver: 'bridge',
    scope: 'local',
    created: '',
    internal: false,
    attachable: false,
    builtin: false,
    labels: {},
    options: {},
    ipam: { subnet, gateway: subnet.replace(/0\/\d+$/, '1'), aux: {}, userSubnet: false, userGateway: false },
    allocated: {},
    ...fields,
  };
}
