import { describe, expect, it } from 'vitest';
import { buildProgram, commandWord } from '../../src/cli/main.js';
import { InvalidArgumentError, flagValueError, goQuote } from '../../src/cli/parse/errors.js';
import {
  type PublishSpec,
  hostPortText,
  parseExpose,
  parsePortOptions,
  parsePortRange,
  parsePublish,
  splitProtoPort,
} from '../../src/cli/parse/publish.js';
import {
  NAME_ADJECTIVES,
  NAME_NOUNS,
  generateName,
  isValidContainerName,
  validateContainerName,
  validateNetworkName,
} from '../../src/cli/parse/names.js';
import {
  networkFilter,
  networkFilterFromFlags,
  parseEnv,
  parseEnvList,
  parseFilters,
  parseKeyValues,
  parseLabels,
  type NetworkSummary,
} from '../../src/cli/parse/options.js';
// --add-host is parsed by the validator run and create share (ps and the other readers of options.ts never load it).
import { parseExtraHost as parseAddHost } from '../../src/validate/extra-hosts.js';

const pub = (
  proto: PublishSpec['proto'],
  containerPort: number,
  hostIp: string,
  hostPortStart: number,
  hostPortEnd: number,
): PublishSpec => ({ proto, containerPort, hostIp, hostPortStart, hostPortEnd });

describe('-p / --publish', () => {
  it('parses every short form', () => {
    expect(parsePublish('80')).toEqual([pub('tcp', 80, '', 0, 0)]);
    expect(parsePublish('8080:80')).toEqual([pub('tcp', 80, '', 8080, 8080)]);
    expect(parsePublish('127.0.0.1:8081:80')).toEqual([pub('tcp', 80, '127.0.0.1', 8081, 8081)]);
    expect(parsePublish('127.0.0.1::80')).toEqual([pub('tcp', 80, '127.0.0.1', 0, 0)]);
    expect(parsePublish('8082:80/udp')).toEqual([pub('udp', 80, '', 8082, 8082)]);
    expect(parsePublish('9000:9000/SCTP')).toEqual([pub('sctp', 9000, '', 9000, 9000)]);
    expect(parsePublish('80/')).toEqual([pub('tcp', 80, '', 0, 0)]);
  });

  it('parses ranges', () => {
    expect(parsePublish('8083-8084:80-81')).toEqual([pub('tcp', 80, '', 8083, 8083), pub('tcp', 81, '', 8084, 8084)]);
    expect(parsePublish('8000-8010:80')).toEqual([pub('tcp', 80, '', 8000, 8010)]);
    expect(parsePublish('80-82')).toEqual([pub('tcp', 80, '', 0, 0), pub('tcp', 81, '', 0, 0), pub('tcp', 82, '', 0, 0)]);
    expect(parsePublish('10.0.0.1:7000-7001:7000-7001/udp')).toEqual([
      pub('udp', 7000, '10.0.0.1', 7000, 7000),
      pub('udp', 7001, '10.0.0.1', 7001, 7001),
    ]);
  });

  it('accepts bracketed IPv6 host addresses', () => {
    expect(parsePublish('[::1]:80:80')).toEqual([pub('tcp', 80, '::1', 80, 80)]);
    expect(parsePublish('[::]::53/udp')).toEqual([pub('udp', 53, '::', 0, 0)]);
  });

  it('accepts the long syntax', () => {
    expect(parsePublish('published=8080,target=80')).toEqual([pub('tcp', 80, '', 8080, 8080)]);
    expect(parsePublish('target=53,published=5353,protocol=udp')).toEqual([pub('udp', 53, '', 5353, 5353)]);
    expect(() => parsePublish('published=8080,target')).toThrow(
      "invalid publish opts format (should be name=value but got 'target')",
    );
  });

  it("rejects invalid specs with Docker's texts", () => {
    const err = (s: string) => {
      try {
        parsePublish(s);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('x')).toBe('Invalid containerPort: x');
    expect(err('8080:x')).toBe('Invalid containerPort: x');
    expect(err('70000')).toBe('Invalid containerPort: 70000');
    expect(err('x:80')).toBe('Invalid hostPort: x');
    expect(err('9000-8000:80')).toBe('Invalid hostPort: 9000-8000');
    expect(err('1.2.3:80:80')).toBe('Invalid ip address: 1.2.3');
    expect(err('localhost:80:80')).toBe('Invalid ip address: localhost');
    expect(err('::1:80:80')).toBe('Invalid ip address ::1: address ::1:: too many colons in address');
    expect(err('80/sctpx')).toBe('Invalid proto: sctpx');
    expect(err('8080:')).toBe('No port specified: 8080:<empty>');
    expect(err('8000-8001:80-82')).toBe('Invalid ranges specified for container and host Ports: 80-82 and 8000-8001');
    expect(err('8000:80-82')).toBe('Invalid ranges specified for container and host Ports: 80-82 and 8000');
  });

  it('helpers follow Docker', () => {
    expect(parsePortRange('80')).toEqual([80, 80]);
    expect(parsePortRange('80-90')).toEqual([80, 90]);
    expect(() => parsePortRange('')).toThrow('Empty string specified for ports.');
    expect(() => parsePortRange('90-80')).toThrow('Invalid range specified for the Port: 90-80');
    expect(splitProtoPort('53/udp')).toEqual(['udp', '53']);
    expect(splitProtoPort('/udp')).toEqual(['', '']);
    expect(hostPortText(pub('tcp', 80, '', 8000, 8010))).toBe('8000-8010');
    expect(hostPortText(pub('tcp', 80, '', 0, 0))).toBe('');
  });
});

describe('--expose', () => {
  it('parses ports and ranges', () => {
    expect(parseExpose('80')).toEqual([{ proto: 'tcp', port: 80 }]);
    expect(parseExpose('7000-7002/udp')).toEqual([
      { proto: 'udp', port: 7000 },
      { proto: 'udp', port: 7001 },
      { proto: 'udp', port: 7002 },
    ]);
  });

  it("rejects bad values with Docker's texts", () => {
    expect(() => parseExpose('8080:80')).toThrow('invalid port format for --expose: 8080:80');
    expect(() => parseExpose('abc')).toThrow(
      'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax',
    );
    expect(() => parseExpose('90-80')).toThrow(
      'invalid range format for --expose: 90-80, error: Invalid range specified for the Port: 90-80',
    );
  });

  it('merges -p and --expose without duplicates', () => {
    const opts = parsePortOptions(['8080:80', '8080:80', '127.0.0.1::80'], ['80', '443', '53/udp']);
    expect(opts.exposed).toEqual([
      { proto: 'tcp', port: 80 },
      { proto: 'tcp', port: 443 },
      { proto: 'udp', port: 53 },
    ]);
    expect(opts.bindings).toEqual([pub('tcp', 80, '', 8080, 8080), pub('tcp', 80, '127.0.0.1', 0, 0)]);
  });
});

describe('names', () => {
  it("applies Docker's container name rule", () => {
    expect(isValidContainerName('web1')).toBe(true);
    expect(isValidContainerName('my_app.v2-x')).toBe(true);
    expect(isValidContainerName('a')).toBe(false);
    expect(isValidContainerName('-web')).toBe(false);
    expect(validateContainerName('/web')).toBe('web');
    expect(() => validateContainerName('bad name')).toThrow(
      'Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed',
    );
  });

  it('validates network names', () => {
    expect(validateNetworkName('my-bridge')).toBe('my-bridge');
    expect(() => validateNetworkName('bridge')).toThrow('operation is not permitted on predefined bridge network ');
    expect(() => validateNetworkName('host')).toThrow('operation is not permitted on predefined host network ');
    expect(() => validateNetworkName('  ')).toThrow('invalid name:');
    expect(() => validateNetworkName('a/b')).toThrow('invalid name: "a/b"');
  });

  it('generates adjective_noun names that avoid taken ones', () => {
    let i = 0;
    const seq = [0, 0, 0, 0, 0.5, 0.5];
    const rnd = () => seq[i++ % seq.length]!;
    const first = `${NAME_ADJECTIVES[0]}_${NAME_NOUNS[0]}`;
    expect(generateName([], () => 0)).toBe(first);
    const name = generateName(new Set([first]), rnd);
    expect(name).not.toBe(first);
    expect(name).toMatch(/^[a-z]+_[a-z]+\d?$/);
    expect(isValidContainerName(name)).toBe(true);
    // every combination of the first draw is taken: a digit is appended
    expect(generateName([first], () => 0)).toBe(`${first}0`);
    for (let k = 0; k < 50; k++) expect(isValidContainerName(generateName())).toBe(true);
  });

  it('word lists are lower-case words without duplicates', () => {
    for (const list of [NAME_ADJECTIVES, NAME_NOUNS]) {
      expect(new Set(list).size).toBe(list.length);
      for (const w of list) expect(w).toMatch(/^[a-z]+$/);
    }
  });
});

describe('key/value options', () => {
  it('labels need an =', () => {
    expect(parseLabels(['a=1', 'b=', 'c=x=y', 'a=2'])).toEqual({ a: '2', b: '', c: 'x=y' });
    expect(() => parseLabels(['foo'])).toThrow('bad attribute format: foo');
  });

  it('-o and --aux-address accept a key alone', () => {
    expect(parseKeyValues(['com.docker.network.bridge.name=br0', 'flag'])).toEqual({
      'com.docker.network.bridge.name': 'br0',
      flag: '',
    });
  });

  it('--add-host', () => {
    expect(parseAddHost('db:10.0.0.5')).toEqual({ name: 'db', ip: '10.0.0.5' });
    expect(parseAddHost('v6:2001:db8::1')).toEqual({ name: 'v6', ip: '2001:db8::1' });
    expect(parseAddHost('gw:host-gateway')).toEqual({ name: 'gw', ip: 'host-gateway' });
    expect(() => parseAddHost('nocolon')).toThrow('bad format for add-host: "nocolon"');
    expect(() => parseAddHost(':1.2.3.4')).toThrow('bad format for add-host: ":1.2.3.4"');
    expect(() => parseAddHost('db:notanip')).toThrow('invalid IP address in add-host: "notanip"');
  });

  it('-e', () => {
    expect(parseEnv('FOO=bar')).toBe('FOO=bar');
    expect(parseEnv('FOO=')).toBe('FOO=');
    expect(parseEnv('HOME', { HOME: '/root' })).toBe('HOME=/root');
    expect(parseEnv('UNSET', {})).toBe('UNSET');
    expect(() => parseEnv('=x')).toThrow('invalid environment variable: =x');
    expect(parseEnvList(['A=1', 'B'], { B: '2' })).toEqual(['A=1', 'B=2']);
  });

  it('flag errors read like Docker', () => {
    expect(flagValueError('foo', '--label', 'bad attribute format: foo')).toBe(
      'invalid argument "foo" for "--label" flag: bad attribute format: foo',
    );
    expect(goQuote('a"b\n')).toBe('"a\\"b\\n"');
  });
});

describe('network ls --filter', () => {
  const nets: NetworkSummary[] = [
    { id: '20923df550eef87efd73e9f806e48d56', name: 'bridge', driver: 'bridge', scope: 'local', labels: {}, builtin: true },
    { id: '13efa6682a14176c9f7c016eef10dd66', name: 'host', driver: 'host', scope: 'local', labels: {}, builtin: true },
    { id: '4f76fcb0ac9fbda47c640da1fb80b921', name: 'none', driver: 'null', scope: 'local', labels: {}, builtin: true },
    {
      id: 'bdab2f2abfbe67a3b3b13ab8420c6ab6', name: 'my-bridge', driver: 'bridge', scope: 'local',
      labels: { env: 'prod', team: 'net' }, builtin: false, containers: 2,
    },
    { id: '8f61cbc3593e00000000000000000000', name: 'mynet', driver: 'bridge', scope: 'local', labels: { env: 'dev' }, builtin: false },
  ];
  const names = (flags: string[]) => nets.filter(networkFilterFromFlags(flags)).map((n) => n.name);

  it('driver is exact, name and id match a part', () => {
    expect(names(['driver=bridge'])).toEqual(['bridge', 'my-bridge', 'mynet']);
    expect(names(['driver=bri'])).toEqual([]);
    expect(names(['name=bridge'])).toEqual(['bridge', 'my-bridge']);
    expect(names(['name=my'])).toEqual(['my-bridge', 'mynet']);
    expect(names(['name=^my-'])).toEqual(['my-bridge']);
    expect(names(['id=bdab2f'])).toEqual(['my-bridge']);
    expect(names(['name=host', 'name=none'])).toEqual(['host', 'none']);
  });

  it('labels must all match; key alone or key=value', () => {
    expect(names(['label=env'])).toEqual(['my-bridge', 'mynet']);
    expect(names(['label=env=dev'])).toEqual(['mynet']);
    expect(names(['label=env', 'label=team'])).toEqual(['my-bridge']);
    expect(names(['label=env=prod', 'label=team=x'])).toEqual([]);
  });

  it('type, scope, dangling, and combinations', () => {
    expect(names(['type=builtin'])).toEqual(['bridge', 'host', 'none']);
    expect(names(['type=custom'])).toEqual(['my-bridge', 'mynet']);
    expect(names(['type=custom', 'type=builtin'])).toHaveLength(5);
    expect(names(['type=custom', 'driver=bridge', 'name=net'])).toEqual(['mynet']);
    expect(names(['scope=swarm'])).toEqual([]);
    expect(names(['dangling=true'])).toEqual(['mynet']);
    expect(names(['dangling=0'])).toEqual(['bridge', 'host', 'none', 'my-bridge']);
    expect(names([' Driver = host '])).toEqual(['host']);
  });

  it("rejects bad filters with Docker's texts", () => {
    expect(() => parseFilters(['foo'])).toThrow('bad format of filter (expected name=value)');
    expect(() => networkFilter(parseFilters(['foo=bar']))).toThrow("Invalid filter 'foo'");
    expect(() => networkFilter(parseFilters(['type=weird']))).toThrow("Invalid filter: 'type'='weird'");
    expect(() => networkFilter(parseFilters(['dangling=true', 'dangling=false']))).toThrow(
      'got more than one value for filter key "dangling"',
    );
    expect(() => networkFilter(parseFilters(['dangling=maybe']))).toThrow(
      `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`,
    );
  });
});

describe('the command word (only that command is defined at start-up)', () => {
  it('skips global options, with their values, and sees help and the version as "every command"', () => {
    expect(commandWord(['run', '-d', 'busybox'])).toBe('run');
    expect(commandWord(['--explain', '--root', '/tmp/x', 'network', 'ls'])).toBe('network');
    expect(commandWord(['--root=/tmp/x', '--cluster-store', 'etcd://h:2379', 'ps'])).toBe('ps');
    expect(commandWord(['--help'])).toBeUndefined();
    expect(commandWord(['-v'])).toBeUndefined();
    expect(commandWord([])).toBeUndefined();
  });

  it('defines just that command, or all of them for help and unknown words', () => {
    const names = (only?: string) => buildProgram(only).commands.map((c) => c.name());
    expect(names('run')).toEqual(['run', 'create']);
    expect(names('system')).toEqual(['system']);
    expect(names('nosuch')).toEqual(names());
    expect(names()).toEqual(expect.arrayContaining(['network', 'run', 'exec', 'ps', 'port', 'stop', 'restart', 'start', 'rm', 'inspect', 'agent', 'system']));
  });
});
