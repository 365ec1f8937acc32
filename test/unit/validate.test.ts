// The input checks below the engine (src/validate/), the bridge and macvlan
// option parsers, the subnet, MAC and port-fit checks: Docker's rules and
// texts where it has them, and no control character anywhere.
import { describe, expect, it } from 'vitest';
import { parseBridgeOptions } from '../../src/drivers/bridge-options.js';
import { parseGoBool } from '../../src/drivers/options.js';
import { parseMacvlanOptions } from '../../src/drivers/macvlan-options.js';
import { requestedDriver } from '../../src/drivers/index.js';
import type { NetworkRequest } from '../../src/drivers/types.js';
import { PlumbError } from '../../src/engine/core/errors.js';
import { checkCreateNetworkRequest } from '../../src/engine/networks/network-input.js';
import { checkSubnetUsable, validateNetworkConfig } from '../../src/ipam/allocator.js';
import { validateContainerMac } from '../../src/validate/mac.js';
import { allocatePorts, refuseWhatCannotFit, type PortRequest } from '../../src/engine/containers/ports.js';
import { macHolder } from '../../src/engine/networks/addressing.js';
import { normalizeContainerConfig } from '../../src/validate/container-config.js';
import { parseExtraHost, resolveHostGateway } from '../../src/validate/extra-hosts.js';
import { parseLink } from '../../src/validate/links.js';
import { validateAlias, validateContainerName, validateHostname, validateNetworkName } from '../../src/validate/names.js';
import { validateDnsOption, validateDnsSearch, validateDnsServer } from '../../src/validate/resolver.js';
import { hasControlChars, quote } from '../../src/validate/text.js';

const CONTROLS = ['\n', '\r', '\t', '\x00', '\x1b', '\x7f', '\u0085', '\u2028', '\u2029'];

describe('control characters', () => {
  it('are found wherever they are, and quoted onto one printable line', () => {
    for (const c of CONTROLS) {
      expect(hasControlChars(`a${c}b`)).toBe(true);
      expect(quote(`a${c}b`)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    }
    expect(hasControlChars('plain text, with spaces and é')).toBe(false);
    expect(quote('a\nb"c')).toBe('"a\\nb\\"c"');
  });

  it('are refused by every name and resolver check', () => {
    const checks: Array<(v: string) => unknown> = [
      validateNetworkName,
      validateHostname,
      (v) => validateAlias(v),
      validateDnsServer,
      validateDnsSearch,
      validateDnsOption,
      (v) => parseExtraHost(`${v}:1.2.3.4`),
      (v) => parseExtraHost(`h:1.2.3.4${v}`),
      (v) => parseLink(`c1:${v}`),
      (v) => validateContainerMac(`02:42:ac:11:00:02${v}`),
    ];
    for (const check of checks) {
      for (const c of CONTROLS) {
        const value = c === '\n' ? '1.2.3.4\nnameserver 6.6.6.6' : `ab${c}cd`;
        expect(() => check(value), `${check} ${JSON.stringify(value)}`).toThrow();
      }
    }
  });
});

describe('names', () => {
  it("network names: Docker's predefined and empty-name rules, plus '/'", () => {
    expect(validateNetworkName('my net')).toBe('my net');
    expect(() => validateNetworkName('')).toThrow('invalid name: name is empty');
    expect(() => validateNetworkName(' \u00a0')).toThrow('invalid name: name is empty');
    expect(() => validateNetworkName('default')).toThrow('operation is not permitted on predefined default network ');
    expect(() => validateNetworkName('a/b')).toThrow(`network names cannot contain '/'`);
    expect(() => validateNetworkName('a\nb')).toThrow('invalid name: "a\\nb"');
  });

  it('container names keep Docker\'s rule and text', () => {
    expect(validateContainerName('/web-1')).toBe('web-1');
    expect(() => validateContainerName('a')).toThrow('Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    expect(() => validateContainerName('we\nb')).toThrow('Invalid container name ("we\\nb")');
  });

  it('hostnames: at most 64 bytes (Docker\'s text), no blanks', () => {
    expect(validateHostname('h'.repeat(64))).toHaveLength(64);
    expect(() => validateHostname('h'.repeat(65))).toThrow(`hostname "${'h'.repeat(65)}" is too long (maximum 64 bytes)`);
    expect(() => validateHostname('é'.repeat(33))).toThrow('too long');
    expect(() => validateHostname('a b')).toThrow('spaces are not allowed');
    expect(validateHostname('my_host.local')).toBe('my_host.local');
  });

  it('aliases: not empty, no blanks', () => {
    expect(validateAlias('web-1')).toBe('web-1');
    expect(() => validateAlias('')).toThrow('cannot be empty');
    expect(() => validateAlias('a b', 'link alias')).toThrow('invalid link alias "a b"');
  });
});

describe('resolver settings', () => {
  it("--dns: Docker's ValidateIPAddress (blanks trimmed, IPv4 or IPv6)", () => {
    expect(validateDnsServer(' 9.9.9.9 ')).toBe('9.9.9.9');
    expect(validateDnsServer('2001:db8::53')).toBe('2001:db8::53');
    for (const bad of ['abc', '1.2.3.4 6.6.6.6', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '']) {
      expect(() => validateDnsServer(bad)).toThrow(`${bad} is not an ip address`);
    }
  });

  it("--dns-search: Docker's domain rule, '.' allowed, trailing dot dropped", () => {
    expect(validateDnsSearch('example.com.')).toBe('example.com');
    expect(validateDnsSearch(' corp.example ')).toBe('corp.example');
    expect(validateDnsSearch('.')).toBe('.');
    expect(validateDnsSearch('a-1.b2')).toBe('a-1.b2');
    for (const bad of ['exa mple.com', '-bad.com', 'bad-.com', '123', 'a..b', `${'a'.repeat(60)}.`.repeat(5), ':example.com']) {
      expect(() => validateDnsSearch(bad)).toThrow('is not a valid domain');
    }
  });

  it('--dns-option: passed through, but not empty', () => {
    expect(validateDnsOption('ndots:2')).toBe('ndots:2');
    expect(() => validateDnsOption(' ')).toThrow('invalid DNS option');
  });

  it("--add-host: Docker 20.10's split and texts; names stay one word", () => {
    expect(parseExtraHost('db:10.0.0.5')).toEqual({ name: 'db', ip: '10.0.0.5' });
    expect(parseExtraHost('v6:2001:db8::1')).toEqual({ name: 'v6', ip: '2001:db8::1' });
    expect(parseExtraHost('gw: 10.0.0.1 ')).toEqual({ name: 'gw', ip: '10.0.0.1' });
    expect(parseExtraHost('gw:host-gateway')).toEqual({ name: 'gw', ip: 'host-gateway' });
    expect(() => parseExtraHost('nocolon')).toThrow('bad format for add-host: "nocolon"');
    expect(() => parseExtraHost('a b:1.2.3.4')).toThrow('the host name cannot contain spaces');
    expect(() => parseExtraHost('h:1.2.3.4 5.6.7.8')).toThrow('invalid IP address in add-host: "1.2.3.4 5.6.7.8"');
  });

  it('host-gateway becomes the default bridge gateway in /etc/hosts, or is left out without one', () => {
    expect(resolveHostGateway(['db:10.0.0.5', 'gw:host-gateway'], '172.17.0.1')).toEqual(['db:10.0.0.5', 'gw:172.17.0.1']);
    expect(resolveHostGateway(['gw:host-gateway'], undefined)).toEqual([]);
  });

  it("--link: Docker's ParseLink", () => {
    expect(parseLink('db')).toEqual({ target: 'db', alias: 'db' });
    expect(parseLink('db:data')).toEqual({ target: 'db', alias: 'data' });
    expect(parseLink('/db:/web/data')).toEqual({ target: 'db', alias: 'data' });
    expect(parseLink('db:')).toEqual({ target: 'db', alias: 'db' });
    expect(() => parseLink('')).toThrow('empty string specified for links');
    expect(() => parseLink('a:b:c')).toThrow('bad format for links: a:b:c');
    expect(() => parseLink(':x')).toThrow('bad format for links: :x');
  });
});

describe('a whole container config', () => {
  const base = { image: 'box', network: 'un', aliases: [], links: [], dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] };

  it('is normalised the way the store keeps it', () => {
    const c = normalizeContainerConfig({ ...base, name: '/web', mac: '02-42-AA-BB-CC-DD', dns: [' 1.1.1.1'], dnsSearch: ['x.org.'], extraHosts: ['db: 10.0.0.5'] });
    expect(c).toMatchObject({ name: 'web', mac: '02:42:aa:bb:cc:dd', dns: ['1.1.1.1'], dnsSearch: ['x.org'], extraHosts: ['db:10.0.0.5'] });
  });

  it('refuses an image label with blanks, an --ip that is not IPv4, a control character in the network', () => {
    expect(() => normalizeContainerConfig({ ...base, image: 'a b' })).toThrow('invalid reference format');
    expect(() => normalizeContainerConfig({ ...base, ip: '10.0.0.300' })).toThrow('invalid IPv4 address');
    expect(() => normalizeContainerConfig({ ...base, network: 'un\n' })).toThrow('invalid network "un\\n"');
  });
});

describe('MAC addresses', () => {
  it('accepts the forms Go reads, refuses what an interface cannot have', () => {
    expect(validateContainerMac('02:42:AC:11:00:02')).toBe('02:42:ac:11:00:02');
    expect(validateContainerMac(' 02-42-ac-11-00-02 ')).toBe('02:42:ac:11:00:02');
    expect(validateContainerMac('0242.ac11.0002')).toBe('02:42:ac:11:00:02');
    expect(() => validateContainerMac('02:42:ac:11:00')).toThrow('02:42:ac:11:00 is not a valid mac address');
    expect(() => validateContainerMac('zz:42:ac:11:00:02')).toThrow('is not a valid mac address');
    expect(() => validateContainerMac('01:00:5e:00:00:01')).toThrow('multicast');
    expect(() => validateContainerMac('00:00:00:00:00:00')).toThrow('all zeros');
    expect(() => validateContainerMac('02:42:ac:11:00:02\n')).toThrow('02:42:ac:11:00:02\\n is not a valid mac address');
  });
});

describe('subnets', () => {
  it('refuses loopback, multicast, reserved and "this network" blocks, and anything overlapping them', () => {
    for (const s of ['127.0.0.0/8', '127.5.0.0/16', '224.0.0.0/4', '239.255.0.0/16', '240.0.0.0/4', '255.255.255.252/30', '0.0.0.0/8', '0.0.0.0/0', '64.0.0.0/2']) {
      expect(() => checkSubnetUsable(s), s).toThrow('is not allowed');
      expect(() => validateNetworkConfig({ subnet: s })).toThrow('is not allowed');
    }
    expect(() => validateNetworkConfig({ subnet: '224.0.0.0/4' })).toThrow("multicast subnet '224.0.0.0/4' is not allowed");
    for (const s of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '1.0.0.0/8', '223.0.0.0/8']) expect(() => checkSubnetUsable(s)).not.toThrow();
  });
});

describe('bridge options', () => {
  it("defaults, and Go's bool spellings", () => {
    expect(parseBridgeOptions({})).toEqual({ bridgeName: undefined, icc: true, masquerade: true, hostBindingIpv4: '0.0.0.0', defaultBridge: false, mtu: undefined });
    expect(parseGoBool('k', 'True')).toBe(true);
    expect(parseGoBool('k', 'F')).toBe(false);
    expect(() => parseGoBool('k', 'tRuE')).toThrow('failed to parse k value: tRuE (strconv.ParseBool: parsing "tRuE": invalid syntax)');
    expect(() => parseGoBool('k', 'yes')).toThrow('strconv.ParseBool');
  });

  it("host_binding_ipv4 must be an IPv4 address (Docker's text), so no rule ever carries anything else", () => {
    const key = 'com.docker.network.bridge.host_binding_ipv4';
    expect(parseBridgeOptions({ [key]: '127.0.0.1' }).hostBindingIpv4).toBe('127.0.0.1');
    for (const bad of ['notanip', '1.2.3.4 -j ACCEPT', '0.0.0.0/0', '']) {
      expect(() => parseBridgeOptions({ [key]: bad })).toThrow(`failed to parse ${key} value: ${bad} (nil ip)`);
    }
    expect(() => parseBridgeOptions({ [key]: '::1' })).toThrow('IPv4 host addresses only');
    expect(() => parseBridgeOptions({ [key]: '1.2.3.4\n-A INPUT -j ACCEPT' })).toThrow('control characters');
  });

  it('MTU, bridge name and unknown keys', () => {
    expect(parseBridgeOptions({ 'com.docker.network.driver.mtu': '1400' }).mtu).toBe(1400);
    expect(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': 'abc' })).toThrow('strconv.Atoi: parsing "abc": invalid syntax');
    expect(() => parseBridgeOptions({ 'com.docker.network.driver.mtu': '67' })).toThrow('invalid MTU 67');
    expect(parseBridgeOptions({ 'com.docker.network.bridge.name': 'br-ok' }).bridgeName).toBe('br-ok');
    for (const bad of ['abcdefghijklmnop', 'br 0', 'br/0', '..', '']) {
      expect(() => parseBridgeOptions({ 'com.docker.network.bridge.name': bad })).toThrow('invalid bridge name');
    }
    expect(() => parseBridgeOptions({ 'com.docker.network.bridge.nope': '1' })).toThrow('unknown bridge option com.docker.network.bridge.nope');
    expect(parseBridgeOptions({ 'some.other.key': 'x' }).icc).toBe(true);
  });
});

describe('macvlan options', () => {
  it('parent and mode', () => {
    expect(parseMacvlanOptions({ parent: 'eth0.10' })).toEqual({ parent: 'eth0.10', mode: 'bridge', mtu: undefined });
    expect(parseMacvlanOptions({ parent: 'eth0', macvlan_mode: 'vepa' }).mode).toBe('vepa');
    expect(() => parseMacvlanOptions({})).toThrow('-o parent=IFACE is required');
    expect(() => parseMacvlanOptions({ parent: 'eth 0' })).toThrow('invalid macvlan parent');
    expect(() => parseMacvlanOptions({ parent: 'eth0', macvlan_mode: 'bogus' })).toThrow("requested macvlan mode 'bogus' is not valid");
  });
});

describe('ports that cannot fit', () => {
  const host = { sockets: [], range: [32768, 60999] as [number, number] };
  const random = (n: number): PortRequest[] =>
    Array.from({ length: n }, (_, i) => ({ proto: 'tcp' as const, containerPort: i + 1, hostIp: '', hostPortStart: 0, hostPortEnd: 0 }));
  const fail = (why: string): never => {
    throw new Error(why);
  };

  it('-P with more exposed ports than the local port range holds is refused before any search', () => {
    expect(() => refuseWhatCannotFit(random(65535), { host, defaultHostIp: '0.0.0.0' }, fail)).toThrow(
      'all ports are allocated: 65535 tcp ports are asked for on 0.0.0.0 from 32768-60999, which holds 28232',
    );
    expect(() => refuseWhatCannotFit(random(28232), { host, defaultHostIp: '0.0.0.0' }, fail)).not.toThrow();
  });

  it('a host range smaller than the ports given to it is refused', () => {
    const reqs: PortRequest[] = [80, 81, 82].map((p) => ({ proto: 'tcp', containerPort: p, hostIp: '', hostPortStart: 8000, hostPortEnd: 8001 }));
    expect(() => refuseWhatCannotFit(reqs, { host, defaultHostIp: '0.0.0.0' }, fail)).toThrow('which holds 2');
  });

  it('allocating the whole range at once stays correct: every port different, in order', () => {
    const bound = allocatePorts(random(28232), { taken: [], host, cursors: {}, endpoint: 'x', defaultHostIp: '0.0.0.0' });
    expect(new Set(bound.map((b) => b.hostPort)).size).toBe(28232);
    expect(bound[0]!.hostPort).toBe(32768);
    expect(bound.at(-1)!.hostPort).toBe(60999);
  });
});

describe('one MAC per network', () => {
  const data = {
    containers: {
      a: { id: 'a', name: 'running', endpoints: { n1: { mac: '02:42:0a:00:00:02' } }, networks: [{ networkId: 'n1' }] },
      b: { id: 'b', name: 'created', endpoints: {}, networks: [{ networkId: 'n1', mac: '02:42:0a:00:00:63' }] },
    },
  } as unknown as Parameters<typeof macHolder>[0];

  it('a new --mac-address is checked against endpoints and against what created containers asked for', () => {
    expect(macHolder(data, 'n1', '02:42:0A:00:00:02', { configured: true })).toBe('running');
    expect(macHolder(data, 'n1', '02:42:0a:00:00:63', { configured: true })).toBe('created');
    expect(macHolder(data, 'n2', '02:42:0a:00:00:02', { configured: true })).toBeUndefined();
  });

  it('an endpoint being plugged in is checked only against endpoints that exist, never against itself', () => {
    expect(macHolder(data, 'n1', '02:42:0a:00:00:63')).toBeUndefined();
    expect(macHolder(data, 'n1', '02:42:0a:00:00:02', { except: 'a' })).toBeUndefined();
    expect(macHolder(data, 'n1', '02:42:0a:00:00:02', { except: 'b' })).toBe('running');
  });
});

describe('network create, checked before anything is written', () => {
  const req = (over: Partial<NetworkRequest> = {}): NetworkRequest => ({ name: 'n1', driver: 'bridge', aux: {}, internal: false, attachable: false, labels: {}, options: {}, ...over });
  const check = (over: Partial<NetworkRequest> = {}) => () => checkCreateNetworkRequest(req(over), requestedDriver(over.driver ?? 'bridge'));

  it("asks the driver's own option rules, so the check and the record cannot disagree", () => {
    expect(check()).not.toThrow();
    expect(check({ options: { 'com.docker.network.bridge.enable_icc': 'maybe' } })).toThrow('strconv.ParseBool');
    expect(check({ options: { 'com.docker.network.bridge.host_binding_ipv4': '1.2.3.4 -j ACCEPT' } })).toThrow('failed to parse com.docker.network.bridge.host_binding_ipv4');
    expect(check({ driver: 'macvlan', options: { parent: 'eth0', macvlan_mode: 'fast' } })).toThrow("requested macvlan mode 'fast' is not valid");
    expect(check({ driver: 'macvlan', options: { parent: 'eth0', 'com.docker.network.bridge.name': 'x' } })).toThrow('unknown macvlan option');
    expect(check({ driver: 'overlay', options: { 'com.docker.network.driver.mtu': 'abc' } })).toThrow('strconv.Atoi');
    expect(check({ driver: 'host' })).toThrow('only one instance of "host" network is allowed');
  });

  it('refuses bad names, control characters and address plans that cannot be, as PlumbError with exit code 1', () => {
    expect(check({ name: 'a/b' })).toThrow(PlumbError);
    expect(check({ name: 'bridge' })).toThrow('predefined bridge network');
    expect(check({ labels: { k: 'v\nw' } })).toThrow('control characters');
    expect(check({ subnet: '127.0.0.0/8' })).toThrow('is not allowed');
    expect(check({ gateway: '10.0.0.1' })).toThrow('require the --subnet option');
  });
});
