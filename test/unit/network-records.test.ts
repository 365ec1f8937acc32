// The network record as a union keyed by driver: each driver's configure
// accepts and refuses what it did before and returns its own variant of the
// record's settings; the narrowing helpers of drivers/records.ts give a
// driver's fields only for that driver's networks; and records in the flat
// shape the store has always written read back as the right variant, with no
// migration.
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../src/drivers/errors.js';
import { driverFor, requestedDriver } from '../../src/drivers/index.js';
import { bridgeNetwork, localNetwork, macvlanNetwork, networkMtu, overlayNetwork, requireBridge, requireOverlaySettings } from '../../src/drivers/records.js';
import type { NetworkRequest } from '../../src/drivers/types.js';
import { firewallState } from '../../src/engine/firewall/sync.js';
import { emptyStore, type NetworkCommon, type NetworkRecord } from '../../src/store/model.js';
import { networkCommon } from '../helpers/records.js';

const request = (driver: string, options: Record<string, string> = {}): NetworkRequest => ({
  name: 'n',
  driver,
  aux: {},
  internal: false,
  attachable: false,
  labels: {},
  options,
});

const common = (id: string, name: string): NetworkCommon => networkCommon(id, name, '10.9.0.0/24');

describe('configure: each driver parses its options into its own settings', () => {
  const id = 'ab'.repeat(32);
  const configure = (driver: string, options: Record<string, string> = {}, existing: NetworkRecord[] = []) =>
    requestedDriver(driver).configure(request(driver, options), existing, id);

  it('accepts what each driver accepted, keyed by the driver', () => {
    expect(configure('bridge')).toEqual({ driver: 'bridge', bridge: 'br-abababababab', mtu: undefined, icc: true, masquerade: true, hostBindingIpv4: '0.0.0.0' });
    expect(configure('bridge', { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.driver.mtu': '1400' })).toMatchObject({ driver: 'bridge', icc: false, mtu: 1400 });
    expect(configure('macvlan', { parent: 'eth0', macvlan_mode: 'vepa' })).toEqual({ driver: 'macvlan', parent: 'eth0', macvlanMode: 'vepa', mtu: undefined });
    expect(configure('overlay')).toEqual({ driver: 'overlay', mtu: 1450 });
    expect(configure('overlay', { 'com.docker.network.driver.mtu': '1400' })).toEqual({ driver: 'overlay', mtu: 1400 });
  });

  it('refuses what each driver refused, with the same words', () => {
    expect(() => configure('bridge', { 'com.docker.network.bridge.nope': '1' })).toThrow('unknown bridge option com.docker.network.bridge.nope');
    expect(() => configure('bridge', { 'com.docker.network.bridge.enable_icc': 'maybe' })).toThrow('strconv.ParseBool');
    expect(() => configure('bridge', { 'com.docker.network.bridge.host_binding_ipv4': '1.2.3.4 -j ACCEPT' })).toThrow('(nil ip)');
    expect(() => configure('macvlan')).toThrow('-o parent=IFACE is required');
    expect(() => configure('macvlan', { parent: 'eth0', macvlan_mode: 'fast' })).toThrow("requested macvlan mode 'fast' is not valid");
    expect(() => configure('overlay', { 'com.docker.network.bridge.name': 'x' })).toThrow('unknown overlay option');
    expect(() => configure('overlay', { 'com.docker.network.driver.mtu': '40' })).toThrow('invalid MTU 40');
    expect(() => driverFor('host').configure(request('host'), [], id)).toThrow(DriverError);
    expect(() => driverFor('null').configure(request('null'), [], id)).toThrow(DriverError);
  });

  it("checks clashes against the other networks' own fields: a bridge name, a macvlan parent", () => {
    const bridge = localNetwork(common('11'.repeat(32), 'b'), configure('bridge', { 'com.docker.network.bridge.name': 'br-lab' }));
    const macvlan = localNetwork(common('12'.repeat(32), 'm'), configure('macvlan', { parent: 'eth1' }));
    expect(() => configure('bridge', { 'com.docker.network.bridge.name': 'br-lab' }, [bridge, macvlan])).toThrow('bridge name br-lab is already used by another network');
    expect(() => configure('macvlan', { parent: 'eth1' }, [bridge, macvlan])).toThrow('network dm-121212121212 is already using parent interface eth1');
    // A bridge named like a macvlan parent (or the reverse) is no clash: each driver looks only at its own networks.
    expect(configure('bridge', { 'com.docker.network.bridge.name': 'eth1' }, [bridge, macvlan])).toMatchObject({ bridge: 'eth1' });
    expect(configure('macvlan', { parent: 'br-lab' }, [bridge, macvlan])).toMatchObject({ parent: 'br-lab' });
  });
});

describe("narrowing: a driver's fields only on that driver's networks", () => {
  const bridge = localNetwork(common('21'.repeat(32), 'b'), { driver: 'bridge', bridge: 'br-x', icc: true, masquerade: true });
  const macvlan = localNetwork(common('22'.repeat(32), 'm'), { driver: 'macvlan', parent: 'eth0', mtu: 1400 });
  const none: NetworkRecord = { ...common('23'.repeat(32), 'none'), driver: 'null' };

  it('each helper gives the record for its driver and undefined otherwise', () => {
    expect(bridgeNetwork(bridge)?.bridge).toBe('br-x');
    expect(bridgeNetwork(macvlan)).toBeUndefined();
    expect(bridgeNetwork(undefined)).toBeUndefined();
    expect(macvlanNetwork(macvlan)?.parent).toBe('eth0');
    expect(macvlanNetwork(none)).toBeUndefined();
    expect(overlayNetwork(bridge)).toBeUndefined();
  });

  it("the MTU: the network's own, else its driver's default, else none (the kernel's)", () => {
    expect(networkMtu(macvlan)).toBe(1400);
    expect(networkMtu(bridge)).toBe(1500);
    expect(networkMtu(none)).toBeUndefined();
  });

  it("a driver handed another driver's record says so instead of reading the wrong shape", () => {
    expect(() => requireBridge(macvlan)).toThrow('network m has driver macvlan, handed to the bridge driver');
    expect(() => requireOverlaySettings({ driver: 'bridge', bridge: 'br-x', icc: true, masquerade: true })).toThrow('internal error');
    expect(() => localNetwork(common('24'.repeat(32), 'ov'), { driver: 'overlay', mtu: 1450 })).toThrow('defined in the cluster store');
  });
});

describe('the store keeps the flat shape it always had', () => {
  // Records as earlier versions wrote them (a bridge without an MTU, an overlay with its namespace): no migration on read.
  const onDisk = `{"version":1,"containers":{},"sysctls":[],"networks":{
    "b1":{"id":"b1","name":"front","driver":"bridge","scope":"local","created":"2026-01-01T00:00:01Z","internal":false,"attachable":false,"builtin":false,"labels":{},"options":{},
          "ipam":{"subnet":"10.1.0.0/24","gateway":"10.1.0.1","aux":{},"userSubnet":true,"userGateway":false},"bridge":"br-front","icc":false,"masquerade":true,"hostBindingIpv4":"127.0.0.1","allocated":{}},
    "m1":{"id":"m1","name":"lan","driver":"macvlan","scope":"local","created":"2026-01-01T00:00:02Z","internal":false,"attachable":false,"builtin":false,"labels":{},"options":{"parent":"eth1"},
          "ipam":{"subnet":"192.168.5.0/24","gateway":"192.168.5.1","aux":{},"userSubnet":true,"userGateway":true},"parent":"eth1","macvlanMode":"bridge","allocated":{}},
    "o1":{"id":"o1","name":"ov","driver":"overlay","scope":"global","created":"2026-01-01T00:00:03Z","internal":false,"attachable":false,"builtin":false,"labels":{},"options":{},
          "ipam":{"subnet":"10.0.9.0/24","gateway":"10.0.9.1","aux":{},"userSubnet":false,"userGateway":false},"mtu":1450,"vni":257,
          "overlaySandbox":{"netns":"/run/plumb/netns/1-o1","alias":"/run/netns/1-o1","aliasDir":"/run/netns"},"allocated":{}},
    "h1":{"id":"h1","name":"host","driver":"host","scope":"local","created":"2026-01-01T00:00:00Z","internal":false,"attachable":false,"builtin":true,"labels":{},"options":{},"allocated":{}}
  }}`;
  const data = { ...emptyStore(), ...JSON.parse(onDisk) };
  const net = (id: string): NetworkRecord => data.networks[id];

  it("reads each record back as its driver's variant, fields where they were", () => {
    expect(bridgeNetwork(net('b1'))).toMatchObject({ bridge: 'br-front', icc: false, hostBindingIpv4: '127.0.0.1' });
    expect(macvlanNetwork(net('m1'))).toMatchObject({ parent: 'eth1', macvlanMode: 'bridge' });
    expect(overlayNetwork(net('o1'))).toMatchObject({ vni: 257, mtu: 1450 });
    expect(driverFor('overlay').ownedNamespaces(net('o1'))).toEqual([{ netns: '/run/plumb/netns/1-o1', alias: '/run/netns/1-o1', aliasDir: '/run/netns' }]);
    expect(driverFor('host').ownedNamespaces(net('h1'))).toEqual([]);
  });

  it("the firewall sees only the bridge network, with the settings it was stored with", () => {
    expect(firewallState(data).networks).toEqual([
      { id: 'b1', name: 'front', bridge: 'br-front', subnet: '10.1.0.0/24', icc: false, masquerade: true, internal: false, hostBindingIpv4: '127.0.0.1' },
    ]);
  });
});
