// The drivers against fake kernel steps (test/helpers/fake-kernel.ts): what
// each asks the kernel to do, how it parses and refuses options, what it finds
// wrong and how it draws a network. No root, no namespaces.
import { describe, expect, it } from 'vitest';
import { bridgeDriver } from '../../src/drivers/bridge.js';
import { DriverError } from '../../src/drivers/errors.js';
import { driverFor, requestedDriver } from '../../src/drivers/index.js';
import { macvlanDriver } from '../../src/drivers/macvlan.js';
import { overlayDriver } from '../../src/drivers/overlay.js';
import type { NetworkRequest, OverlayServices } from '../../src/drivers/types.js';
import type { BridgeNetwork, NetworkCommon, NetworkRecord, OverlayNetwork } from '../../src/store/model.js';
import { fakeKernel, fakeNetns } from '../helpers/fake-kernel.js';
import { networkRecord } from '../helpers/records.js';

const request = (over: Partial<NetworkRequest> = {}): NetworkRequest => ({
  name: 'mynet',
  driver: 'bridge',
  aux: {},
  internal: false,
  attachable: false,
  labels: {},
  options: {},
  ...over,
});

function bridgeNet(over: Partial<BridgeNetwork> = {}): BridgeNetwork {
  return networkRecord('ab'.repeat(32), 'mynet', '192.168.0.0/24', { hostBindingIpv4: '0.0.0.0', ...over }) as BridgeNetwork;
}

/** The fields every network has, from a bridge network: the start of another driver's record. */
function common({ driver: _driver, bridge: _bridge, mtu: _mtu, icc: _icc, masquerade: _masquerade, hostBindingIpv4: _binding, ...rest }: BridgeNetwork): NetworkCommon {
  return rest;
}

describe('configure: each driver parses and validates its own options', () => {
  it('bridge: Docker option names into typed settings, br-<12 hex> by default', () => {
    const id = 'cd'.repeat(32);
    expect(bridgeDriver.configure(request(), [], id)).toEqual({ driver: 'bridge', bridge: 'br-cdcdcdcdcdcd', mtu: undefined, icc: true, masquerade: true, hostBindingIpv4: '0.0.0.0' });
    const opts = {
      'com.docker.network.bridge.name': 'br-lab',
      'com.docker.network.bridge.enable_icc': 'false',
      'com.docker.network.bridge.enable_ip_masquerade': 'f',
      'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
      'com.docker.network.driver.mtu': '1400',
    };
    expect(bridgeDriver.configure(request({ options: opts }), [], id)).toEqual({ driver: 'bridge', bridge: 'br-lab', mtu: 1400, icc: false, masquerade: false, hostBindingIpv4: '127.0.0.1' });
  });

  it('bridge: refuses unknown options, bad booleans, bad MTUs, bad and taken bridge names', () => {
    const id = 'cd'.repeat(32);
    const bad = (options: Record<string, string>, existing: NetworkRecord[] = []) => () => bridgeDriver.configure(request({ options }), existing, id);
    expect(bad({ 'com.docker.network.bridge.nope': '1' })).toThrow('unknown bridge option com.docker.network.bridge.nope');
    expect(bad({ 'com.docker.network.bridge.enable_icc': 'maybe' })).toThrow('failed to parse com.docker.network.bridge.enable_icc value: maybe (strconv.ParseBool: parsing "maybe": invalid syntax)');
    expect(bad({ 'com.docker.network.driver.mtu': '40' })).toThrow('invalid MTU 40: use a number from 68 to 65535');
    expect(bad({ 'com.docker.network.bridge.name': 'a-name-longer-than-15' })).toThrow(DriverError);
    expect(bad({ 'com.docker.network.bridge.name': 'br-abababababab' }, [bridgeNet()])).toThrow('bridge name br-abababababab is already used by another network');
  });

  it('macvlan: parent required, Docker\'s modes, one network per parent', () => {
    const mac = (options: Record<string, string>, existing: NetworkRecord[] = []) => macvlanDriver.configure(request({ driver: 'macvlan', options }), existing, 'ef'.repeat(32));
    expect(mac({ parent: 'eth0' })).toEqual({ driver: 'macvlan', parent: 'eth0', macvlanMode: 'bridge', mtu: undefined });
    expect(mac({ parent: 'eth0', macvlan_mode: 'private' })).toMatchObject({ macvlanMode: 'private' });
    expect(() => mac({})).toThrow('-o parent=IFACE is required');
    expect(() => mac({ parent: 'eth0', macvlan_mode: 'fast' })).toThrow("requested macvlan mode 'fast' is not valid");
    const other: NetworkRecord = { ...common(bridgeNet({ id: '12'.repeat(32) })), driver: 'macvlan', parent: 'eth0' };
    expect(() => mac({ parent: 'eth0' }, [other])).toThrow('network dm-121212121212 is already using parent interface eth0');
  });

  it('overlay: MTU 1450 unless given; host and null have one instance; unknown drivers are named', () => {
    expect(overlayDriver.configure(request({ driver: 'overlay' }), [], '')).toEqual({ driver: 'overlay', mtu: 1450 });
    expect(() => overlayDriver.configure(request({ driver: 'overlay', options: { 'com.docker.network.bridge.name': 'x' } }), [], '')).toThrow('unknown overlay option');
    expect(() => driverFor('host').configure(request({ driver: 'host' }), [], '')).toThrow('only one instance of "host" network is allowed');
    expect(() => driverFor('null').configure(request({ driver: 'null' }), [], '')).toThrow('only one instance of "null" network is allowed');
    expect(() => requestedDriver('ipvlan')).toThrow('plugin "ipvlan" not found');
  });
});

describe('bridge: kernel steps', () => {
  it('creates the bridge with a 02:42 MAC, the gateway address, up, and route_localnet (a recorded sysctl)', async () => {
    const k = fakeKernel();
    const net = bridgeNet({ mtu: 1400 });
    await bridgeDriver.createNetwork(k.env, k.steps, net);
    expect(k.calls).toEqual([
      { ns: 'host', call: 'addBridge', args: ['br-abababababab', { mtu: 1400, address: '02:42:2a:2a:2a:2a' }] },
      { ns: 'host', call: 'addAddress', args: ['br-abababababab', '192.168.0.1/24'] },
      { ns: 'host', call: 'setLink', args: ['br-abababababab', { up: true }] },
    ]);
    expect(k.steps.names).toEqual(['add bridge br-abababababab', 'address br-abababababab', 'up br-abababababab', 'route_localnet br-abababababab']);
    await k.steps.rollback();
    expect(k.calls.at(-1)).toEqual({ ns: 'host', call: 'deleteLink', args: ['br-abababababab'] });
  });

  it('refuses to take over a link that already has the bridge\'s name', async () => {
    const k = fakeKernel();
    k.links.get('host')!.set('br-abababababab', { up: true });
    await expect(bridgeDriver.createNetwork(k.env, k.steps, bridgeNet())).rejects.toThrow('a link named br-abababababab already exists on this host');
  });

  it('hands out the lowest free address with its MAC, then joins: veth born on the bridge, hairpin, address, default route', async () => {
    const k = fakeKernel();
    const net = bridgeNet();
    const ep = await bridgeDriver.addEndpoint(k.steps, { env: k.env, net, container: { id: 'c1', name: 'web' }, spec: { aliases: ['w'] } });
    expect(ep).toMatchObject({ ip: '192.168.0.2', prefix: 24, mac: '02:42:c0:a8:00:02', gateway: '192.168.0.1', aliases: ['w'], id: '2a'.repeat(32) });
    expect(net.allocated).toEqual({ '192.168.0.2': ep.id });
    await bridgeDriver.joinEndpoint({ env: k.env, steps: k.steps, net, ep, sandboxNs: fakeNetns('web'), sandboxName: 'web', defaultRoute: true });
    expect(k.calls.map((c) => `${c.ns} ${c.call} ${JSON.stringify(c.args)}`)).toEqual([
      'host addVeth ["veth2a2a2a2","eth0","web",{"peerAddress":"02:42:c0:a8:00:02","master":"br-abababababab","up":true}]',
      'host setBridgePort ["veth2a2a2a2",{"hairpin":true}]',
      'web setLink ["eth0",{"up":true}]',
      'web addAddress ["eth0","192.168.0.2/24"]',
      'web addRoute [{"dst":"default","via":"192.168.0.1","dev":"eth0"}]',
    ]);
    await k.steps.rollback();
    expect(net.allocated).toEqual({});
  });

  it('an --internal network gives no gateway, so no default route', async () => {
    const k = fakeKernel();
    const net = bridgeNet({ internal: true });
    const ep = await bridgeDriver.addEndpoint(k.steps, { env: k.env, net, container: { id: 'c1', name: 'web' }, spec: { aliases: [] } });
    await bridgeDriver.joinEndpoint({ env: k.env, steps: k.steps, net, ep, sandboxNs: fakeNetns('web'), sandboxName: 'web', defaultRoute: true });
    expect(k.calls.some((c) => c.call === 'addRoute')).toBe(false);
  });

  it('check: a missing bridge is a finding whose repair builds it again; a veth off its bridge is put back', async () => {
    const k = fakeKernel();
    const net = bridgeNet();
    const [missing] = await bridgeDriver.checkNetwork(k.env, net, { hostLinks: new Map() });
    expect(missing?.problem).toBe('bridge br-abababababab is missing');
    await missing!.fix!(k.steps);
    expect(k.calls[0]).toMatchObject({ call: 'addBridge', args: ['br-abababababab', expect.anything()] });
    const ep = { id: 'e', networkId: net.id, ifname: 'eth0', hostVeth: 'veth1234567', ip: '192.168.0.2', prefix: 24, mac: 'm', aliases: [] };
    const view = { hostLinks: new Map([['br-abababababab', { up: true }], ['veth1234567', { up: true, master: 'plumb0' }]]) };
    const [off] = await bridgeDriver.checkEndpoint(k.env, net, ep, view, undefined);
    expect(off?.problem).toBe('veth veth1234567 is on plumb0; it belongs on br-abababababab');
    const rejoin = () => undefined;
    expect((await bridgeDriver.checkEndpoint(k.env, net, ep, { hostLinks: new Map() }, rejoin))[0]?.fix).toBe(rejoin);
  });

  it('describe: the bridge, and per endpoint its veth (a bridge port) and the interface inside', () => {
    const net = bridgeNet();
    const ep = { id: 'e', networkId: net.id, ifname: 'eth0', hostVeth: 'veth1234567', ip: '192.168.0.2', prefix: 24, mac: 'm', aliases: [] };
    const d = bridgeDriver.describe(net, [{ container: 'web', ep }]);
    expect(d.nodes.map((n) => n.id)).toEqual(['bridge:br-abababababab', 'veth:veth1234567', 'iface:web/eth0']);
    expect(d.edges).toEqual([
      { from: 'veth:veth1234567', to: 'bridge:br-abababababab', label: 'port' },
      { from: 'veth:veth1234567', to: 'iface:web/eth0', label: 'veth pair' },
    ]);
  });
});

describe('overlay: the cluster store comes through the environment', () => {
  const overlayNet = (): OverlayNetwork => ({
    ...common(bridgeNet()),
    driver: 'overlay',
    scope: 'global',
    ipam: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', aux: {}, userSubnet: false, userGateway: false },
    vni: 256,
    mtu: 1450,
  });

  it('claims addresses in the cluster store, withdraws them on remove, and leaves through plumb_gwbridge unless --internal', async () => {
    const k = fakeKernel();
    const seen: string[] = [];
    const services: Partial<OverlayServices> = {
      claimEndpoint: async (_steps, req) => (seen.push(`claim ${req.container.name}`), { id: 'e1', networkId: req.net.id, ifname: 'eth0', ip: '10.0.0.2', prefix: 24, mac: '02:42:0a:00:00:02', aliases: [] }),
      withdrawEndpoint: async (_net, ep, name) => void seen.push(`withdraw ${ep.id} of ${name}`),
    };
    const env = { ...k.env, overlay: async () => services as OverlayServices };
    const net = overlayNet();
    const ep = await overlayDriver.addEndpoint(k.steps, { env, net, container: { id: 'c', name: 'bbbox1' }, spec: { aliases: [] } });
    await overlayDriver.removeEndpoint(env, net, ep, { containerName: 'bbbox1' });
    expect(seen).toEqual(['claim bbbox1', 'withdraw e1 of bbbox1']);
    expect(overlayDriver.egressThroughGatewayBridge(net)).toBe(true);
    expect(overlayDriver.egressThroughGatewayBridge({ ...net, internal: true })).toBe(false);
  });

  it('without a cluster store in the environment, joining says what to configure', async () => {
    const k = fakeKernel();
    const net = overlayNet();
    const ep = { id: 'e1', networkId: net.id, ifname: 'eth0', ip: '10.0.0.2', prefix: 24, mac: 'm', aliases: [] };
    await expect(overlayDriver.joinEndpoint({ env: k.env, steps: k.steps, net, ep, sandboxNs: fakeNetns('b'), sandboxName: 'b', defaultRoute: true })).rejects.toThrow(
      'overlay networks need a cluster store',
    );
  });
});
