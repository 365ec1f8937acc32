// Legacy links: the environment Docker gives the linking container, the
// refusal once a target is gone, and the firewall's view of links.
import { describe, expect, it } from 'vitest';
import { checkLinkTargets, envPrefix, exposedPorts, firewallLinks, linkEnv } from '../../src/engine/containers/links.js';
import type { ContainerRecord, StoreData } from '../../src/store/model.js';
import { containerRecord } from '../helpers/records.js';

const BRIDGE = {
  id: 'nb',
  name: 'bridge',
  driver: 'bridge' as const,
  scope: 'local' as const,
  created: '',
  internal: false,
  attachable: false,
  builtin: true,
  labels: {},
  options: {},
  bridge: 'plumb0',
  icc: true,
  masquerade: true,
  ipam: { subnet: '172.17.0.0/16', gateway: '172.17.0.1', aux: {}, userSubnet: false, userGateway: false },
  allocated: {},
};

function c(name: string, ip: string | undefined, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return containerRecord(name, {
    hostname: name,
    state: ip ? 'running' : 'exited',
    networks: [{ networkId: 'nb', aliases: [] }],
    endpoints: ip ? { nb: { id: `ep-${name}`, networkId: 'nb', ifname: 'eth0', ip, prefix: 16, mac: '', aliases: [] } } : {},
    ...extra,
  });
}

function data(...cs: ContainerRecord[]): StoreData {
  return { version: 1, networks: { nb: BRIDGE }, containers: Object.fromEntries(cs.map((x) => [x.id, x])), sysctls: [] };
}

describe('link environment (reference section 2: db1 --expose 80 --expose 5432 --expose 53/udp -e FOO=bar -e PASSWORD=secret)', () => {
  const db1 = c('db1', '172.17.0.4', {
    expose: [
      { proto: 'tcp', port: 80 },
      { proto: 'tcp', port: 5432 },
      { proto: 'udp', port: 53 },
    ],
    env: { FOO: 'bar', PASSWORD: 'secret' },
  });
  const web1 = c('web1', '172.17.0.5', { links: [{ target: 'db1', alias: 'database' }] });

  it('matches Docker variable for variable, in order', () => {
    expect(Object.entries(linkEnv(data(db1, web1), web1)).map(([k, v]) => `${k}=${v}`)).toEqual([
      'DATABASE_PORT=udp://172.17.0.4:53',
      'DATABASE_PORT_53_UDP=udp://172.17.0.4:53',
      'DATABASE_PORT_53_UDP_ADDR=172.17.0.4',
      'DATABASE_PORT_53_UDP_PORT=53',
      'DATABASE_PORT_53_UDP_PROTO=udp',
      'DATABASE_PORT_80_TCP=tcp://172.17.0.4:80',
      'DATABASE_PORT_80_TCP_ADDR=172.17.0.4',
      'DATABASE_PORT_80_TCP_PORT=80',
      'DATABASE_PORT_80_TCP_PROTO=tcp',
      'DATABASE_PORT_5432_TCP=tcp://172.17.0.4:5432',
      'DATABASE_PORT_5432_TCP_ADDR=172.17.0.4',
      'DATABASE_PORT_5432_TCP_PORT=5432',
      'DATABASE_PORT_5432_TCP_PROTO=tcp',
      'DATABASE_NAME=/web1/database',
      'DATABASE_ENV_FOO=bar',
      'DATABASE_ENV_PASSWORD=secret',
    ]);
  });

  it('gives only NAME for a target without exposed ports, and nothing on a user network', () => {
    const test1 = c('test1', '172.17.0.2');
    const test2 = c('test2', '172.17.0.3', { links: [{ target: 'test1', alias: 'test1' }] });
    expect(linkEnv(data(test1, test2), test2)).toEqual({ TEST1_NAME: '/test2/test1' });
    const onUser = { ...test2, networkMode: 'my-bridge' };
    expect(linkEnv(data(test1, onUser), onUser)).toEqual({});
  });

  it('counts -p container ports as exposed, once', () => {
    const t = c('t', '172.17.0.9', {
      expose: [{ proto: 'tcp', port: 80 }],
      publish: [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortStart: 8080, hostPortEnd: 8080 }],
    });
    expect(exposedPorts(t)).toEqual([{ proto: 'tcp', port: 80 }]);
    expect(envPrefix('my-db')).toBe('MY_DB');
  });

  it('refuses a linking container whose target is gone, in Docker words', () => {
    const web2 = c('web1', '172.17.0.5', { links: [{ target: 'db1', alias: 'database' }] });
    expect(() => checkLinkTargets(data(web2), web2)).toThrow('Cannot link to a non running container: /db1 AS /web1/database');
    expect(() => checkLinkTargets(data(db1, web2), web2)).not.toThrow();
  });

  it('hands the firewall each running link with the target\'s exposed ports', () => {
    expect(firewallLinks(data(db1, web1))).toEqual([
      {
        from: 'web1',
        to: 'db1',
        bridge: 'plumb0',
        fromIp: '172.17.0.5',
        toIp: '172.17.0.4',
        ports: [
          { proto: 'udp', port: 53 },
          { proto: 'tcp', port: 80 },
          { proto: 'tcp', port: 5432 },
        ],
      },
    ]);
    expect(firewallLinks(data(web1))).toEqual([]);
  });
});
