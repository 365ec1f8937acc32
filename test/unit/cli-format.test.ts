import { describe, expect, it } from 'vitest';
import { formatTable, tabwrite } from '../../src/cli/format/table.js';
import {
  displayablePorts,
  formatPortLines,
  formatPortQuery,
  noPublicPortError,
  parsePortArg,
  type PortBinding,
} from '../../src/cli/format/ports.js';
import {
  containerStateWord,
  containerStatus,
  createdAgo,
  humanDuration,
  rfc3339Nano,
  toEpochNs,
} from '../../src/cli/format/time.js';
import { prepareFormat, renderFormat, renderTemplate, TemplateError } from '../../src/cli/format/template.js';
import {
  buildNetworkInspect,
  buildNetworkSettings,
  buildPortMap,
  renderInspect,
  type NetworkInspectInput,
} from '../../src/cli/format/inspect.js';
import { goJson, goMap, sortedMap } from '../../src/cli/format/json.js';

// Output recorded from Docker 20.10 (see the shared reference), byte for byte.
const REF = {
  "inspectBridge": "[\n    {\n        \"Name\": \"bridge\",\n        \"Id\": \"20923df550eef87efd73e9f806e48d56fca57f94f128b104bf86c07155bc5f75\",\n        \"Created\": \"2026-11-22T03:54:53.152254874Z\",\n        \"Scope\": \"local\",\n        \"Driver\": \"bridge\",\n        \"EnableIPv6\": false,\n        \"IPAM\": {\n            \"Driver\": \"default\",\n            \"Options\": null,\n            \"Config\": [\n                {\n                    \"Subnet\": \"172.17.0.0/16\"\n                }\n            ]\n        },\n        \"Internal\": false,\n        \"Attachable\": false,\n        \"Ingress\": false,\n        \"ConfigFrom\": {\n            \"Network\": \"\"\n        },\n        \"ConfigOnly\": false,\n        \"Containers\": {\n            \"c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e\": {\n                \"Name\": \"test1\",\n                \"EndpointID\": \"c3d4ae3b0ea6cef0a9a8adb0fe50eb1e06be91c5d51c6cfab2fb20221e35c09f\",\n                \"MacAddress\": \"02:42:ac:11:00:02\",\n                \"IPv4Address\": \"172.17.0.2/16\",\n                \"IPv6Address\": \"\"\n            }\n        },\n        \"Options\": {\n            \"com.docker.network.bridge.default_bridge\": \"true\",\n            \"com.docker.network.bridge.enable_icc\": \"true\",\n            \"com.docker.network.bridge.enable_ip_masquerade\": \"true\",\n            \"com.docker.network.bridge.host_binding_ipv4\": \"0.0.0.0\",\n            \"com.docker.network.bridge.name\": \"docker0\",\n            \"com.docker.network.driver.mtu\": \"1500\"\n        },\n        \"Labels\": {}\n    }\n]\n",
  "inspectMyBridgeEmpty": "[\n    {\n        \"Name\": \"my-bridge\",\n        \"Id\": \"bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86\",\n        \"Created\": \"2026-11-22T03:56:14.362190479Z\",\n        \"Scope\": \"local\",\n        \"Driver\": \"bridge\",\n        \"EnableIPv6\": false,\n        \"IPAM\": {\n            \"Driver\": \"default\",\n            \"Options\": {},\n            \"Config\": [\n                {\n                    \"Subnet\": \"172.18.0.0/16\",\n                    \"Gateway\": \"172.18.0.1\"\n                }\n            ]\n        },\n        \"Internal\": false,\n        \"Attachable\": false,\n        \"Ingress\": false,\n        \"ConfigFrom\": {\n            \"Network\": \"\"\n        },\n        \"ConfigOnly\": false,\n        \"Containers\": {},\n        \"Options\": {},\n        \"Labels\": {}\n    }\n]\n",
  "inspectMyBridge3": "[\n    {\n        \"Name\": \"my-bridge\",\n        \"Id\": \"bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86\",\n        \"Created\": \"2026-11-22T03:56:14.362190479Z\",\n        \"Scope\": \"local\",\n        \"Driver\": \"bridge\",\n        \"EnableIPv6\": false,\n        \"IPAM\": {\n            \"Driver\": \"default\",\n            \"Options\": {},\n            \"Config\": [\n                {\n                    \"Subnet\": \"172.18.0.0/16\",\n                    \"Gateway\": \"172.18.0.1\"\n                }\n            ]\n        },\n        \"Internal\": false,\n        \"Attachable\": false,\n        \"Ingress\": false,\n        \"ConfigFrom\": {\n            \"Network\": \"\"\n        },\n        \"ConfigOnly\": false,\n        \"Containers\": {\n            \"47666c7e2b5f171c7ef68fb549226cbc878817a04c7360e98342b6d97a60a296\": {\n                \"Name\": \"c1\",\n                \"EndpointID\": \"a3e6b607164fa01f4243c5cf01c0839befbfc9f1fb1462f82c5abc80bc086875\",\n                \"MacAddress\": \"02:42:ac:12:00:02\",\n                \"IPv4Address\": \"172.18.0.2/16\",\n                \"IPv6Address\": \"\"\n            },\n            \"4fe48ca1f24d8b403b45b4c9cee1b907f43f4c6501d83ecf33f426cd4cbb570e\": {\n                \"Name\": \"c2\",\n                \"EndpointID\": \"aa5e92519571fa4e4e4e0842f5ed646eb216c93ba2b72c416f1a73bb9e9f1b0f\",\n                \"MacAddress\": \"02:42:ac:12:00:03\",\n                \"IPv4Address\": \"172.18.0.3/16\",\n                \"IPv6Address\": \"\"\n            },\n            \"c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e\": {\n                \"Name\": \"test1\",\n                \"EndpointID\": \"7ffe5b81917caa1ba1fc9ddf68bebd3f4fafc55ae4ded4fa49c719d82117acc9\",\n                \"MacAddress\": \"02:42:ac:12:00:04\",\n                \"IPv4Address\": \"172.18.0.4/16\",\n                \"IPv6Address\": \"\"\n            }\n        },\n        \"Options\": {},\n        \"Labels\": {}\n    }\n]\n",
  "inspectOverlay": "[\n    {\n        \"Name\": \"ov_net1\",\n        \"Id\": \"wdq13osfb2ologg3l1gzepoww\",\n        \"Created\": \"2026-11-22T04:00:03.919226916Z\",\n        \"Scope\": \"swarm\",\n        \"Driver\": \"overlay\",\n        \"EnableIPv6\": false,\n        \"IPAM\": {\n            \"Driver\": \"default\",\n            \"Options\": null,\n            \"Config\": [\n                {\n                    \"Subnet\": \"10.0.1.0/24\",\n                    \"Gateway\": \"10.0.1.1\"\n                }\n            ]\n        },\n        \"Internal\": false,\n        \"Attachable\": true,\n        \"Ingress\": false,\n        \"ConfigFrom\": {\n            \"Network\": \"\"\n        },\n        \"ConfigOnly\": false,\n        \"Containers\": {\n            \"4231847c3da9ff2742d4a1b9bbd9f5ef40146d2c3d921afbd6ec763a3c15c828\": {\n                \"Name\": \"o1\",\n                \"EndpointID\": \"58c5eb3ef5008dacfe1eb5f5944f4ff96147c047483991c4b79fc91c897e2b39\",\n                \"MacAddress\": \"02:42:0a:00:01:02\",\n                \"IPv4Address\": \"10.0.1.2/24\",\n                \"IPv6Address\": \"\"\n            },\n            \"lb-ov_net1\": {\n                \"Name\": \"ov_net1-endpoint\",\n                \"EndpointID\": \"c3278c5f5c56b5f12299f701cbeb862113187de5a00c8e4b771d85db02b84afe\",\n                \"MacAddress\": \"02:42:0a:00:01:03\",\n                \"IPv4Address\": \"10.0.1.3/24\",\n                \"IPv6Address\": \"\"\n            }\n        },\n        \"Options\": {\n            \"com.docker.network.driver.overlay.vxlanid_list\": \"4097\"\n        },\n        \"Labels\": {},\n        \"Peers\": [\n            {\n                \"Name\": \"f872d272f683\",\n                \"IP\": \"10.253.0.1\"\n            },\n            {\n                \"Name\": \"d2167b4820e9\",\n                \"IP\": \"10.253.0.2\"\n            }\n        ]\n    }\n]\n",
  "c2Networks": "{\"my-bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":[\"web\",\"www\",\"4fe48ca1f24d\"],\"NetworkID\":\"bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86\",\"EndpointID\":\"aa5e92519571fa4e4e4e0842f5ed646eb216c93ba2b72c416f1a73bb9e9f1b0f\",\"Gateway\":\"172.18.0.1\",\"IPAddress\":\"172.18.0.3\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"02:42:ac:12:00:03\",\"DriverOpts\":null}}\n",
  "test1Networks": "{\"bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"NetworkID\":\"20923df550eef87efd73e9f806e48d56fca57f94f128b104bf86c07155bc5f75\",\"EndpointID\":\"035b1adf18473aa3feb862d417732e5979af2225100f373581f72fa75479b7af\",\"Gateway\":\"172.17.0.1\",\"IPAddress\":\"172.17.0.6\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"02:42:ac:11:00:06\",\"DriverOpts\":null},\"my-bridge\":{\"IPAMConfig\":{},\"Links\":null,\"Aliases\":[\"c0c3de5dbebb\"],\"NetworkID\":\"bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86\",\"EndpointID\":\"7ffe5b81917caa1ba1fc9ddf68bebd3f4fafc55ae4ded4fa49c719d82117acc9\",\"Gateway\":\"172.18.0.1\",\"IPAddress\":\"172.18.0.4\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"02:42:ac:12:00:04\",\"DriverOpts\":{}}}\n",
  "hostcSettings": "{\"Bridge\":\"\",\"SandboxID\":\"e0ab402179b37e518e651c9d8b96c540ba9c3ba34123264ea84b4050caa8324c\",\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\",\"LinkLocalIPv6PrefixLen\":0,\"Ports\":{},\"SandboxKey\":\"<exec-root>/netns/default\",\"SecondaryIPAddresses\":null,\"SecondaryIPv6Addresses\":null,\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"MacAddress\":\"\",\"Networks\":{\"host\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"NetworkID\":\"13efa6682a14176c9f7c016eef10dd6616538d3ef212773336c933cb79f5c3b7\",\"EndpointID\":\"b66e43f70384d0f48c91fb39e73d2ae7030d3db1d2ff33096180d9a13d4b1e2c\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}}\n",
  "nonecSettings": "{\"Bridge\":\"\",\"SandboxID\":\"7f246c4fcd04fe9db2a9104cbf65476535ae6187d416a5d06104dfec3d1a31fd\",\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\",\"LinkLocalIPv6PrefixLen\":0,\"Ports\":{},\"SandboxKey\":\"<exec-root>/netns/7f246c4fcd04\",\"SecondaryIPAddresses\":null,\"SecondaryIPv6Addresses\":null,\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"MacAddress\":\"\",\"Networks\":{\"none\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"NetworkID\":\"4f76fcb0ac9fbda47c640da1fb80b921a6893f6630dccb02864998b7aabd58a0\",\"EndpointID\":\"9a930b24e26f75cc6b9e060d613d22516b7d6fb882368fb5a43a4e3ce2380696\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}}\n",
  "joincSettings": "{\"Bridge\":\"\",\"SandboxID\":\"\",\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\",\"LinkLocalIPv6PrefixLen\":0,\"Ports\":{},\"SandboxKey\":\"\",\"SecondaryIPAddresses\":null,\"SecondaryIPv6Addresses\":null,\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"MacAddress\":\"\",\"Networks\":{}} container:c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e\n",
  "p1Ports": "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"},{\"HostIp\":\"::\",\"HostPort\":\"8080\"}]}\n",
  "p4Ports": "{\"443/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"32769\"},{\"HostIp\":\"::\",\"HostPort\":\"32769\"}],\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"32770\"},{\"HostIp\":\"::\",\"HostPort\":\"32770\"}]}\n"
} as const;

// ---------------------------------------------------------------- table

const NETWORK_LS = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const NETWORK_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE' };
const PS_FORMAT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';
const PS_HEADERS = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED',
  Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES',
};

describe('tabwrite / formatTable', () => {
  it('matches docker network ls', () => {
    const out = formatTable([
      ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
      ['20923df550ee', 'bridge', 'bridge', 'local'],
      ['13efa6682a14', 'host', 'host', 'local'],
      ['4f76fcb0ac9f', 'none', 'null', 'local'],
    ]);
    expect(out).toBe(
      'NETWORK ID     NAME      DRIVER    SCOPE\n' +
        '20923df550ee   bridge    bridge    local\n' +
        '13efa6682a14   host      host      local\n' +
        '4f76fcb0ac9f   none      null      local\n',
    );
  });

  it('matches docker network ls --no-trunc', () => {
    const out = formatTable([
      ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
      ['20923df550eef87efd73e9f806e48d56fca57f94f128b104bf86c07155bc5f75', 'bridge', 'bridge', 'local'],
      ['13efa6682a14176c9f7c016eef10dd6616538d3ef212773336c933cb79f5c3b7', 'host', 'host', 'local'],
      ['bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86', 'my-bridge', 'bridge', 'local'],
      ['4f76fcb0ac9fbda47c640da1fb80b921a6893f6630dccb02864998b7aabd58a0', 'none', 'null', 'local'],
    ]);
    expect(out).toBe(
      'NETWORK ID                                                         NAME        DRIVER    SCOPE\n' +
        '20923df550eef87efd73e9f806e48d56fca57f94f128b104bf86c07155bc5f75   bridge      bridge    local\n' +
        '13efa6682a14176c9f7c016eef10dd6616538d3ef212773336c933cb79f5c3b7   host        host      local\n' +
        'bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86   my-bridge   bridge    local\n' +
        '4f76fcb0ac9fbda47c640da1fb80b921a6893f6630dccb02864998b7aabd58a0   none        null      local\n',
    );
  });

  it('renders the network ls default format through the template', () => {
    const rows = [
      { ID: 'd34b0d65a402', Name: 'bridge', Driver: 'bridge', Scope: 'local' },
      { ID: '5c3f4cd7e4f9', Name: 'docker_gwbridge', Driver: 'bridge', Scope: 'local' },
      { ID: 'deeb6c1c89bd', Name: 'host', Driver: 'host', Scope: 'local' },
      { ID: 'ybvc2o47srlx', Name: 'ingress', Driver: 'overlay', Scope: 'swarm' },
      { ID: '0b35e4b89645', Name: 'none', Driver: 'null', Scope: 'local' },
      { ID: 'wdq13osfb2ol', Name: 'ov_net1', Driver: 'overlay', Scope: 'swarm' },
    ];
    expect(renderFormat(NETWORK_LS, rows, { headers: NETWORK_HEADERS })).toBe(
      'NETWORK ID     NAME              DRIVER    SCOPE\n' +
        'd34b0d65a402   bridge            bridge    local\n' +
        '5c3f4cd7e4f9   docker_gwbridge   bridge    local\n' +
        'deeb6c1c89bd   host              host      local\n' +
        'ybvc2o47srlx   ingress           overlay   swarm\n' +
        '0b35e4b89645   none              null      local\n' +
        'wdq13osfb2ol   ov_net1           overlay   swarm\n',
    );
  });

  it('prints only the header for an empty table', () => {
    expect(renderFormat(NETWORK_LS, [], { headers: NETWORK_HEADERS })).toBe('NETWORK ID   NAME      DRIVER    SCOPE\n');
  });

  it('matches docker ps -a with empty PORTS', () => {
    const row = (id: string, created: string, status: string, name: string) => ({
      ID: id, Image: 'busybox', Command: '"sleep 3600"', RunningFor: created, Status: status, Ports: '', Names: name,
    });
    const out = renderFormat(
      PS_FORMAT,
      [
        row('24b21ac30bf3', '2 seconds ago', 'Up 1 second', 'filler'),
        row('bbbaec55de15', '4 seconds ago', 'Up 3 seconds', 'web1'),
        row('3b5ba86df5ee', '15 seconds ago', 'Up Less than a second', 'test2'),
        row('c0c3de5dbebb', '34 seconds ago', 'Up 1 second', 'test1'),
      ],
      { headers: PS_HEADERS },
    );
    expect(out).toBe(
      [
        'CONTAINER ID   IMAGE     COMMAND        CREATED          STATUS                  PORTS     NAMES',
        '24b21ac30bf3   busybox   "sleep 3600"   2 seconds ago    Up 1 second                       filler',
        'bbbaec55de15   busybox   "sleep 3600"   4 seconds ago    Up 3 seconds                      web1',
        '3b5ba86df5ee   busybox   "sleep 3600"   15 seconds ago   Up Less than a second             test2',
        'c0c3de5dbebb   busybox   "sleep 3600"   34 seconds ago   Up 1 second                       test1',
      ].join('\n') + '\n',
    );
  });

  it('matches the docker ps port-publishing table (ports, durations, ellipsis width)', () => {
    const now = Date.UTC(2026, 10, 22, 3, 58, 0);
    const b = (containerPort: number, hostIp: string, hostPort: number, proto = 'tcp'): PortBinding => ({
      proto, containerPort, hostIp, hostPort,
    });
    const dual = (containerPort: number, hostPort: number, proto = 'tcp') => [
      b(containerPort, '0.0.0.0', hostPort, proto),
      b(containerPort, '::', hostPort, proto),
    ];
    const httpd = '"httpd -f -vv -p 80 \u2026"';
    const sleep = '"sleep 3600"';
    const c = (id: string, cmd: string, createdS: number, upS: number, ports: PortBinding[], name: string) => ({
      ID: id,
      Image: 'busybox',
      Command: cmd,
      RunningFor: createdAgo(now - createdS * 1000, now),
      Status: containerStatus({ running: true, exitCode: 0, startedAt: now - upS * 1000 - 500 }, now),
      Ports: displayablePorts(ports),
      Names: name,
    });
    const rows = [
      c('1cf6b7e88d2d', httpd, 1, 1, [b(80, '10.254.0.1', 8085), ...dual(80, 8083), ...dual(81, 8084)], 'p6'),
      c('10b28d0dbcf3', '"onc -u -l -k 80"', 2, 1, dual(80, 8082, 'udp'), 'p5'),
      c('bdc73e4d2cda', httpd, 2, 1, [...dual(443, 32769), ...dual(80, 32770)], 'p4'),
      c('9a7f47a4d48f', httpd, 2, 1, dual(80, 32768), 'p3'),
      c('81185fcdb154', httpd, 3, 2, [b(80, '127.0.0.1', 8081)], 'p2'),
      c('749f5547c33f', httpd, 3, 2, dual(80, 8080), 'p1'),
      c('1495ef5ab941', sleep, 45, 44, [], 'a5'),
      c('495dd6f94800', sleep, 45, 44, [], 'a4'),
      c('503958cb9147', sleep, 46, 45, [], 'a3'),
      c('68d31e6217c7', sleep, 46, 45, [], 'a1'),
      c('4fe48ca1f24d', sleep, 130, 100, [], 'c2'),
      c('47666c7e2b5f', sleep, 130, 100, [], 'c1'),
      c('24b21ac30bf3', sleep, 150, 140, [], 'filler'),
      c('3b5ba86df5ee', sleep, 150, 140, [], 'test2'),
      c('c0c3de5dbebb', sleep, 150, 140, [], 'test1'),
    ];
    expect(renderFormat(PS_FORMAT, rows, { headers: PS_HEADERS })).toBe(PS_PUBLISH_TABLE);
  });

  it('starts a new column block after a line without tabs', () => {
    expect(tabwrite('a\tb\nlonger-cell\tc\nplain\nx\ty\n')).toBe(
      'a             b\nlonger-cell   c\nplain\nx         y\n',
    );
  });

  it('counts width in code points', () => {
    expect(formatTable([['h\u2026llo', 'x'], ['a', 'y']])).toBe('h\u2026llo     x\na         y\n');
  });
});

const PS_PUBLISH_TABLE = [
  'CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS              PORTS                                                                                                   NAMES',
  '1cf6b7e88d2d   busybox   "httpd -f -vv -p 80 \u2026"   1 second ago     Up 1 second         0.0.0.0:8083->80/tcp, 10.254.0.1:8085->80/tcp, :::8083->80/tcp, 0.0.0.0:8084->81/tcp, :::8084->81/tcp   p6',
  '10b28d0dbcf3   busybox   "onc -u -l -k 80"        2 seconds ago    Up 1 second         0.0.0.0:8082->80/udp, :::8082->80/udp                                                                   p5',
  'bdc73e4d2cda   busybox   "httpd -f -vv -p 80 \u2026"   2 seconds ago    Up 1 second         0.0.0.0:32770->80/tcp, :::32770->80/tcp, 0.0.0.0:32769->443/tcp, :::32769->443/tcp                      p4',
  '9a7f47a4d48f   busybox   "httpd -f -vv -p 80 \u2026"   2 seconds ago    Up 1 second         0.0.0.0:32768->80/tcp, :::32768->80/tcp                                                                 p3',
  '81185fcdb154   busybox   "httpd -f -vv -p 80 \u2026"   3 seconds ago    Up 2 seconds        127.0.0.1:8081->80/tcp                                                                                  p2',
  '749f5547c33f   busybox   "httpd -f -vv -p 80 \u2026"   3 seconds ago    Up 2 seconds        0.0.0.0:8080->80/tcp, :::8080->80/tcp                                                                   p1',
  '1495ef5ab941   busybox   "sleep 3600"             45 seconds ago   Up 44 seconds                                                                                                               a5',
  '495dd6f94800   busybox   "sleep 3600"             45 seconds ago   Up 44 seconds                                                                                                               a4',
  '503958cb9147   busybox   "sleep 3600"             46 seconds ago   Up 45 seconds                                                                                                               a3',
  '68d31e6217c7   busybox   "sleep 3600"             46 seconds ago   Up 45 seconds                                                                                                               a1',
  '4fe48ca1f24d   busybox   "sleep 3600"             2 minutes ago    Up About a minute                                                                                                           c2',
  '47666c7e2b5f   busybox   "sleep 3600"             2 minutes ago    Up About a minute                                                                                                           c1',
  '24b21ac30bf3   busybox   "sleep 3600"             2 minutes ago    Up 2 minutes                                                                                                                filler',
  '3b5ba86df5ee   busybox   "sleep 3600"             2 minutes ago    Up 2 minutes                                                                                                                test2',
  'c0c3de5dbebb   busybox   "sleep 3600"             2 minutes ago    Up 2 minutes                                                                                                                test1',
].join('\n') + '\n';

// ---------------------------------------------------------------- ports

describe('displayablePorts', () => {
  const b = (containerPort: number, hostIp: string, hostPort: number, proto = 'tcp'): PortBinding => ({
    proto, containerPort, hostIp, hostPort,
  });

  it('lists exposed-only ports', () => {
    expect(displayablePorts([], [{ proto: 'tcp', port: 80 }, { proto: 'udp', port: 9000 }])).toBe('80/tcp, 9000/udp');
  });

  it('puts same-port bindings (runs) before host mappings', () => {
    expect(
      displayablePorts([b(80, '127.0.0.1', 32768), b(9999, '0.0.0.0', 9999), b(9999, '::', 9999)]),
    ).toBe('0.0.0.0:9999->9999/tcp, :::9999->9999/tcp, 127.0.0.1:32768->80/tcp');
  });

  it('groups consecutive ports into ranges', () => {
    const ports = [8000, 8001, 8002].map((p) => b(p, '0.0.0.0', p));
    expect(displayablePorts(ports)).toBe('0.0.0.0:8000-8002->8000-8002/tcp');
    expect(
      displayablePorts([], [7000, 7001, 7002].map((port) => ({ proto: 'udp', port }))),
    ).toBe('7000-7002/udp');
  });

  it('lists a finished run before the runs still open', () => {
    expect(
      displayablePorts([], [
        { proto: 'tcp', port: 80 },
        { proto: 'tcp', port: 81 },
        { proto: 'udp', port: 90 },
        { proto: 'tcp', port: 443 },
      ]),
    ).toBe('80-81/tcp, 443/tcp, 90/udp');
  });

  it('does not range ports whose host port differs', () => {
    expect(displayablePorts([b(80, '0.0.0.0', 8000), b(81, '0.0.0.0', 8001)])).toBe(
      '0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/tcp',
    );
  });

  it('shows an exposed port only once when it is also published', () => {
    expect(displayablePorts([b(80, '0.0.0.0', 8080)], [{ proto: 'tcp', port: 80 }, { proto: 'tcp', port: 443 }])).toBe(
      '443/tcp, 0.0.0.0:8080->80/tcp',
    );
  });

  it('brackets IPv6 like newer CLIs when asked', () => {
    expect(displayablePorts([b(80, '0.0.0.0', 8080), b(80, '::', 8080)], [], { bracketIPv6: true })).toBe(
      '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
    );
  });
});

describe('docker port output', () => {
  const b = (containerPort: number, hostIp: string, hostPort: number, proto = 'tcp'): PortBinding => ({
    proto, containerPort, hostIp, hostPort,
  });

  it('matches docker port p1, p4, p6, p5', () => {
    expect(formatPortLines([b(80, '0.0.0.0', 8080), b(80, '::', 8080)])).toBe(
      '80/tcp -> 0.0.0.0:8080\n80/tcp -> :::8080\n',
    );
    expect(
      formatPortLines([b(443, '0.0.0.0', 32769), b(443, '::', 32769), b(80, '0.0.0.0', 32770), b(80, '::', 32770)]),
    ).toBe('443/tcp -> 0.0.0.0:32769\n443/tcp -> :::32769\n80/tcp -> 0.0.0.0:32770\n80/tcp -> :::32770\n');
    expect(
      formatPortLines([
        b(80, '10.254.0.1', 8085), b(80, '0.0.0.0', 8083), b(80, '::', 8083), b(81, '0.0.0.0', 8084), b(81, '::', 8084),
      ]),
    ).toBe(
      '80/tcp -> 10.254.0.1:8085\n80/tcp -> 0.0.0.0:8083\n80/tcp -> :::8083\n81/tcp -> 0.0.0.0:8084\n81/tcp -> :::8084\n',
    );
    expect(formatPortLines([b(80, '0.0.0.0', 8082, 'udp'), b(80, '::', 8082, 'udp')])).toBe(
      '80/udp -> 0.0.0.0:8082\n80/udp -> :::8082\n',
    );
    expect(formatPortLines([])).toBe('');
  });

  it('matches docker port p4 443 and the CLI 28 form', () => {
    const p4 = [b(443, '0.0.0.0', 32769), b(443, '::', 32769), b(80, '0.0.0.0', 32770)];
    const q = parsePortArg('443')!;
    expect(formatPortQuery(p4, q.port, q.proto)).toBe('0.0.0.0:32769\n:::32769\n');
    expect(formatPortQuery(p4, 53, 'udp')).toBeNull();
    expect(noPublicPortError(53, 'udp', 'p4')).toBe("Error: No public port '53/udp' published for p4");
    expect(formatPortLines([b(80, '0.0.0.0', 8080), b(80, '::', 8080)], { bracketIPv6: true })).toBe(
      '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n',
    );
    expect(parsePortArg('53/UDP')).toEqual({ port: 53, proto: 'udp' });
    expect(parsePortArg('x')).toBeNull();
  });
});

// ---------------------------------------------------------------- time

describe('humanDuration and status', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  it('follows go-units thresholds', () => {
    expect(humanDuration(0)).toBe('Less than a second');
    expect(humanDuration(999)).toBe('Less than a second');
    expect(humanDuration(1 * s)).toBe('1 second');
    expect(humanDuration(59 * s + 999)).toBe('59 seconds');
    expect(humanDuration(60 * s)).toBe('About a minute');
    expect(humanDuration(119 * s)).toBe('About a minute');
    expect(humanDuration(2 * m)).toBe('2 minutes');
    expect(humanDuration(59 * m)).toBe('59 minutes');
    expect(humanDuration(60 * m)).toBe('About an hour');
    expect(humanDuration(89 * m)).toBe('About an hour');
    expect(humanDuration(90 * m)).toBe('2 hours');
    expect(humanDuration(47 * h)).toBe('47 hours');
    expect(humanDuration(48 * h)).toBe('2 days');
    expect(humanDuration(13 * 24 * h)).toBe('13 days');
    expect(humanDuration(14 * 24 * h)).toBe('2 weeks');
    expect(humanDuration(60 * 24 * h)).toBe('2 months');
    expect(humanDuration(2 * 365 * 24 * h)).toBe('2 years');
    expect(humanDuration(-5 * s)).toBe('Less than a second');
  });

  it('words CREATED and STATUS like docker ps', () => {
    const now = 1_000_000_000_000;
    expect(createdAgo(now - 2 * m - 5 * s, now)).toBe('2 minutes ago');
    expect(containerStatus({ running: true, exitCode: 0, startedAt: now - 300 }, now)).toBe('Up Less than a second');
    expect(containerStatus({ running: true, exitCode: 0, startedAt: now - 2 * m }, now)).toBe('Up 2 minutes');
    expect(containerStatus({ running: false, exitCode: 137, startedAt: now - m, finishedAt: now - 3 * s }, now)).toBe(
      'Exited (137) 3 seconds ago',
    );
    expect(containerStatus({ running: false, exitCode: 137, startedAt: now - m, finishedAt: now - 10 }, now)).toBe(
      'Exited (137) Less than a second ago',
    );
    expect(containerStatus({ running: false, exitCode: 0 }, now)).toBe('Created');
    expect(containerStatus({ running: true, paused: true, exitCode: 0, startedAt: now - 5 * s }, now)).toBe(
      'Up 5 seconds (Paused)',
    );
    expect(containerStateWord({ running: false, exitCode: 0 })).toBe('created');
    expect(containerStateWord({ running: false, exitCode: 1, startedAt: 1, finishedAt: 2 })).toBe('exited');
  });

  it('formats RFC 3339 with nanoseconds like Go', () => {
    expect(rfc3339Nano(1795319693152254874n)).toBe('2026-11-22T03:54:53.152254874Z');
    expect(rfc3339Nano(1795319693150000000n)).toBe('2026-11-22T03:54:53.15Z');
    expect(rfc3339Nano(1795319693000000000n)).toBe('2026-11-22T03:54:53Z');
    expect(rfc3339Nano(toEpochNs(new Date('2026-11-22T03:54:53.152Z')))).toBe('2026-11-22T03:54:53.152Z');
  });
});

// ---------------------------------------------------------------- template

describe('templates', () => {
  it('renders fields, nested fields and literal text', () => {
    const rows = [
      { Names: 'filler', Status: 'Up 3 seconds' },
      { Names: 'web1', Status: 'Exited (137) Less than a second ago' },
    ];
    expect(renderFormat('{{.Names}} {{.Status}}', rows)).toBe(
      'filler Up 3 seconds\nweb1 Exited (137) Less than a second ago\n',
    );
    expect(renderTemplate('{{.NetworkSettings.IPAddress}}', { NetworkSettings: { IPAddress: '172.17.0.2' } })).toBe(
      '172.17.0.2\n',
    );
  });

  it('turns \\t into a tab without a table', () => {
    const rows = [
      { Names: 'e2', Ports: '0.0.0.0:9999->9999/tcp, :::9999->9999/tcp, 127.0.0.1:32768->80/tcp' },
      { Names: 'e1', Ports: '80/tcp, 9000/udp' },
      { Names: 'a5', Ports: '' },
    ];
    expect(renderFormat('{{.Names}}\\t{{.Ports}}', rows)).toBe(
      'e2\t0.0.0.0:9999->9999/tcp, :::9999->9999/tcp, 127.0.0.1:32768->80/tcp\ne1\t80/tcp, 9000/udp\na5\t\n',
    );
  });

  it('json, pipes and functions', () => {
    const data = { Links: null, Aliases: ['web', 'www'], Labels: { b: '2', a: '1' }, Name: 'My Net' };
    expect(renderTemplate('{{json .Links}}', data)).toBe('null\n');
    expect(renderTemplate('{{json .Aliases}} {{.Aliases | json}}', data)).toBe('["web","www"] ["web","www"]\n');
    expect(renderTemplate('{{join .Aliases ","}}', data)).toBe('web,www\n');
    expect(renderTemplate('{{index .Labels "a"}}', data)).toBe('1\n');
    expect(renderTemplate('{{.Labels}}', data)).toBe('map[a:1 b:2]\n');
    expect(renderTemplate('{{.Aliases}}', data)).toBe('[web www]\n');
    expect(renderTemplate('{{lower .Name}} {{upper .Name}} {{len .Aliases}}', data)).toBe('my net MY NET 2\n');
    expect(renderTemplate('{{.Missing}}', data)).toBe('<no value>\n');
    expect(renderTemplate('{{json .}}', { a: '<&>' })).toBe('{"a":"<&>"}\n');
  });

  it('if / range / with', () => {
    const net = {
      Containers: {
        b: { Name: 'c2', IPv4Address: '172.18.0.3/16' },
        a: { Name: 'c1', IPv4Address: '172.18.0.2/16' },
      },
      Internal: false,
    };
    expect(renderTemplate('{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}', net)).toBe(
      'c1=172.18.0.2/16 c2=172.18.0.3/16 \n',
    );
    expect(renderTemplate('{{if .Internal}}internal{{else}}external{{end}}', net)).toBe('external\n');
    expect(renderTemplate('{{if .Internal}}a{{else if .Containers}}b{{else}}c{{end}}', net)).toBe('b\n');
    expect(renderTemplate('{{with .Containers.a}}{{.Name}}{{end}}', net)).toBe('c1\n');
    expect(renderTemplate('{{range .Nothing}}x{{else}}empty{{end}}', net)).toBe('empty\n');
    expect(renderTemplate('a {{- " b " -}} c', net)).toBe('a b c\n');
  });

  it('uses header names for a table, including through functions', () => {
    const out = renderFormat(
      'table {{.Name}}\t{{json .Labels}}',
      [{ Name: 'n1', Labels: { a: '1' } }],
      { headers: { Name: 'NAME', Labels: 'LABELS' } },
    );
    expect(out).toBe('NAME      LABELS\nn1        {"a":"1"}\n');
  });

  it('reports unknown fields like Docker', () => {
    expect(() =>
      renderFormat('{{.Foo}}', [{ ID: 'x' }], { typeName: '*formatter.networkContext' }),
    ).toThrow('Template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.networkContext');
    expect(() =>
      renderFormat('table {{.ID}}\t{{.Foo}}', [{ ID: 'x' }], { typeName: '*formatter.networkContext' }),
    ).toThrow('template: :1:10: executing "" at <.Foo>');
    expect(() => renderTemplate('{{.A.B}}', { A: null })).toThrow('nil pointer evaluating interface {}.B');
    expect(() => renderTemplate('{{.A.B}}', { A: 'text' })).toThrow("can't evaluate field B in type string");
  });

  it('reports parse errors like Go', () => {
    expect(() => renderTemplate('{{foo .X}}', {})).toThrow('Template parsing error: template: :1: function "foo" not defined');
    expect(() => renderTemplate('{{.X', {})).toThrow('template: :1: unclosed action');
    expect(() => renderTemplate('{{if .X}}a', {})).toThrow('template: :1: unexpected EOF');
    expect(() => renderTemplate('{{end}}', {})).toThrow('template: :1: unexpected {{end}}');
    expect(() => renderTemplate('{{join .X}}', { X: [] })).toThrow('wrong number of args for join: want 2 got 1');
    const err = (() => {
      try {
        renderTemplate('{{foo}}', {});
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).goMessage).toBe('template: :1: function "foo" not defined');
  });

  it('calls row methods with arguments, as Docker contexts do ({{.Label "k"}})', () => {
    const row = { Name: 'n1', Label: (k: string) => ({ env: 'prod' } as Record<string, string>)[k] ?? '' };
    expect(renderFormat('table {{.Name}}\t{{.Label "env"}}', [row], { headers: { Name: 'NAME', Label: 'LABEL' } })).toBe(
      'NAME      LABEL\nn1        prod\n',
    );
  });

  it('prepareFormat handles the table prefix', () => {
    const p = prepareFormat('table {{.ID}}\\t{{.Name}}');
    expect(p.table).toBe(true);
    expect(p.text).toBe('{{.ID}}\t{{.Name}}');
    expect(prepareFormat('{{.ID}}').table).toBe(false);
  });
});

// ---------------------------------------------------------------- inspect

const BRIDGE_ID = '20923df550eef87efd73e9f806e48d56fca57f94f128b104bf86c07155bc5f75';
const MYBRIDGE_ID = 'bdab2f2abfbe67a3b3b13ab8420c6ab6dab14e31bb2edf9a63ddd5a27253fe86';

function bridgeNetwork(): NetworkInspectInput {
  return {
    name: 'bridge',
    id: BRIDGE_ID,
    created: 1795319693152254874n,
    scope: 'local',
    driver: 'bridge',
    enableIPv6: false,
    ipam: { driver: 'default', options: null, config: [{ subnet: '172.17.0.0/16' }] },
    internal: false,
    attachable: false,
    ingress: false,
    containers: [
      {
        id: 'c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e',
        name: 'test1',
        endpointId: 'c3d4ae3b0ea6cef0a9a8adb0fe50eb1e06be91c5d51c6cfab2fb20221e35c09f',
        macAddress: '02:42:ac:11:00:02',
        ipv4Address: '172.17.0.2/16',
        ipv6Address: '',
      },
    ],
    options: {
      'com.docker.network.driver.mtu': '1500',
      'com.docker.network.bridge.name': 'docker0',
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
    },
    labels: {},
  };
}

function myBridge(withContainers: boolean): NetworkInspectInput {
  return {
    name: 'my-bridge',
    id: MYBRIDGE_ID,
    created: '2026-11-22T03:56:14.362190479Z',
    scope: 'local',
    driver: 'bridge',
    enableIPv6: false,
    ipam: { driver: 'default', options: {}, config: [{ subnet: '172.18.0.0/16', gateway: '172.18.0.1' }] },
    internal: false,
    attachable: false,
    ingress: false,
    containers: withContainers
      ? [
          {
            id: 'c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e',
            name: 'test1',
            endpointId: '7ffe5b81917caa1ba1fc9ddf68bebd3f4fafc55ae4ded4fa49c719d82117acc9',
            macAddress: '02:42:ac:12:00:04',
            ipv4Address: '172.18.0.4/16',
            ipv6Address: '',
          },
          {
            id: '47666c7e2b5f171c7ef68fb549226cbc878817a04c7360e98342b6d97a60a296',
            name: 'c1',
            endpointId: 'a3e6b607164fa01f4243c5cf01c0839befbfc9f1fb1462f82c5abc80bc086875',
            macAddress: '02:42:ac:12:00:02',
            ipv4Address: '172.18.0.2/16',
            ipv6Address: '',
          },
          {
            id: '4fe48ca1f24d8b403b45b4c9cee1b907f43f4c6501d83ecf33f426cd4cbb570e',
            name: 'c2',
            endpointId: 'aa5e92519571fa4e4e4e0842f5ed646eb216c93ba2b72c416f1a73bb9e9f1b0f',
            macAddress: '02:42:ac:12:00:03',
            ipv4Address: '172.18.0.3/16',
            ipv6Address: '',
          },
        ]
      : [],
    options: {},
    labels: {},
  };
}

describe('network inspect', () => {
  it('matches docker network inspect bridge', () => {
    expect(renderInspect([buildNetworkInspect(bridgeNetwork())])).toBe(REF.inspectBridge);
  });

  it('matches docker network inspect my-bridge, empty and with containers', () => {
    expect(renderInspect([buildNetworkInspect(myBridge(false))])).toBe(REF.inspectMyBridgeEmpty);
    expect(renderInspect([buildNetworkInspect(myBridge(true))])).toBe(REF.inspectMyBridge3);
  });

  it('matches an overlay network with Peers', () => {
    const net: NetworkInspectInput = {
      name: 'ov_net1',
      id: 'wdq13osfb2ologg3l1gzepoww',
      created: '2026-11-22T04:00:03.919226916Z',
      scope: 'swarm',
      driver: 'overlay',
      enableIPv6: false,
      ipam: { driver: 'default', options: null, config: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }] },
      internal: false,
      attachable: true,
      ingress: false,
      containers: [
        {
          id: 'lb-ov_net1',
          name: 'ov_net1-endpoint',
          endpointId: 'c3278c5f5c56b5f12299f701cbeb862113187de5a00c8e4b771d85db02b84afe',
          macAddress: '02:42:0a:00:01:03',
          ipv4Address: '10.0.1.3/24',
          ipv6Address: '',
        },
        {
          id: '4231847c3da9ff2742d4a1b9bbd9f5ef40146d2c3d921afbd6ec763a3c15c828',
          name: 'o1',
          endpointId: '58c5eb3ef5008dacfe1eb5f5944f4ff96147c047483991c4b79fc91c897e2b39',
          macAddress: '02:42:0a:00:01:02',
          ipv4Address: '10.0.1.2/24',
          ipv6Address: '',
        },
      ],
      options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
      labels: {},
      peers: [
        { name: 'f872d272f683', ip: '10.253.0.1' },
        { name: 'd2167b4820e9', ip: '10.253.0.2' },
      ],
    };
    expect(renderInspect([buildNetworkInspect(net)])).toBe(REF.inspectOverlay);
  });

  it('writes IPRange, AuxiliaryAddresses and the Plumb key after the Docker keys', () => {
    const net = myBridge(false);
    net.ipam.config = [
      { subnet: '192.168.0.0/16', ipRange: '192.168.1.0/24', gateway: '192.168.0.1', auxAddresses: { z: '192.168.0.9', a: '192.168.0.8' } },
    ];
    net.labels = { 'com.example<x>': 'a&b' };
    net.containers = [{ ...myBridge(true).containers[0]!, plumb: { hostVeth: 'vethac12004', hostIfindex: 36, sandboxIfname: 'eth1', firewallRules: ['-A X'] } }];
    net.plumb = { bridge: 'br-bdab2f2abfbe' };
    const obj = buildNetworkInspect(net);
    expect(Object.keys(obj).slice(-2)).toEqual(['Labels', 'Plumb']);
    const text = renderInspect([obj]);
    expect(text).toContain(
      '"Config": [\n                {\n                    "Subnet": "192.168.0.0/16",\n                    "IPRange": "192.168.1.0/24",\n                    "Gateway": "192.168.0.1",\n                    "AuxiliaryAddresses": {\n                        "a": "192.168.0.8",\n                        "z": "192.168.0.9"\n                    }\n                }\n            ]',
    );
    expect(text).toContain('"com.example\\u003cx\\u003e": "a\\u0026b"');
    expect(obj.Plumb).toEqual({
      Bridge: 'br-bdab2f2abfbe',
      Endpoints: {
        c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e: {
          Interface: 'eth1', HostVeth: 'vethac12004', HostIfindex: 36, FirewallRules: ['-A X'],
        },
      },
    });
    expect(renderInspect([])).toBe('[]\n');
  });
});

describe('container NetworkSettings', () => {
  it('matches {{json .NetworkSettings.Networks}} for c2 and test1', () => {
    const c2 = buildNetworkSettings({
      sandboxId: 'x',
      sandboxKey: 'y',
      networks: [
        {
          name: 'my-bridge',
          ipamConfig: null,
          aliases: ['web', 'www', '4fe48ca1f24d'],
          networkId: MYBRIDGE_ID,
          endpointId: 'aa5e92519571fa4e4e4e0842f5ed646eb216c93ba2b72c416f1a73bb9e9f1b0f',
          gateway: '172.18.0.1',
          ipAddress: '172.18.0.3',
          ipPrefixLen: 16,
          macAddress: '02:42:ac:12:00:03',
        },
      ],
    });
    expect(renderTemplate('{{json .NetworkSettings.Networks}}', { NetworkSettings: c2 })).toBe(REF.c2Networks);

    const test1 = buildNetworkSettings({
      sandboxId: 'x',
      sandboxKey: 'y',
      networks: [
        {
          name: 'my-bridge',
          ipamConfig: {},
          aliases: ['c0c3de5dbebb'],
          networkId: MYBRIDGE_ID,
          endpointId: '7ffe5b81917caa1ba1fc9ddf68bebd3f4fafc55ae4ded4fa49c719d82117acc9',
          gateway: '172.18.0.1',
          ipAddress: '172.18.0.4',
          ipPrefixLen: 16,
          macAddress: '02:42:ac:12:00:04',
          driverOpts: {},
        },
        {
          name: 'bridge',
          networkId: BRIDGE_ID,
          endpointId: '035b1adf18473aa3feb862d417732e5979af2225100f373581f72fa75479b7af',
          gateway: '172.17.0.1',
          ipAddress: '172.17.0.6',
          ipPrefixLen: 16,
          macAddress: '02:42:ac:11:00:06',
        },
      ],
    });
    expect(renderTemplate('{{json .NetworkSettings.Networks}}', { NetworkSettings: test1 })).toBe(REF.test1Networks);
    expect(test1.IPAddress).toBe('172.17.0.6');
    expect(renderTemplate('{{.NetworkSettings.IPAddress}}', { NetworkSettings: test1 })).toBe('172.17.0.6\n');
  });

  it('matches host, none and container: modes', () => {
    const hostc = buildNetworkSettings({
      sandboxId: 'e0ab402179b37e518e651c9d8b96c540ba9c3ba34123264ea84b4050caa8324c',
      sandboxKey: '<exec-root>/netns/default',
      networks: [
        {
          name: 'host',
          networkId: '13efa6682a14176c9f7c016eef10dd6616538d3ef212773336c933cb79f5c3b7',
          endpointId: 'b66e43f70384d0f48c91fb39e73d2ae7030d3db1d2ff33096180d9a13d4b1e2c',
          gateway: '',
          ipAddress: '',
          ipPrefixLen: 0,
          macAddress: '',
        },
      ],
    });
    expect(renderTemplate('{{json .NetworkSettings}}', { NetworkSettings: hostc })).toBe(REF.hostcSettings);

    const nonec = buildNetworkSettings({
      sandboxId: '7f246c4fcd04fe9db2a9104cbf65476535ae6187d416a5d06104dfec3d1a31fd',
      sandboxKey: '<exec-root>/netns/7f246c4fcd04',
      networks: [
        {
          name: 'none',
          networkId: '4f76fcb0ac9fbda47c640da1fb80b921a6893f6630dccb02864998b7aabd58a0',
          endpointId: '9a930b24e26f75cc6b9e060d613d22516b7d6fb882368fb5a43a4e3ce2380696',
          gateway: '',
          ipAddress: '',
          ipPrefixLen: 0,
          macAddress: '',
        },
      ],
    });
    expect(renderTemplate('{{json .NetworkSettings}}', { NetworkSettings: nonec })).toBe(REF.nonecSettings);

    const joinc = buildNetworkSettings({ sandboxId: '', sandboxKey: '', networks: [] });
    expect(
      renderTemplate('{{json .NetworkSettings}} {{.HostConfig.NetworkMode}}', {
        NetworkSettings: joinc,
        HostConfig: { NetworkMode: 'container:c0c3de5dbebbcbd36eb8c82b0f43fffe4d470a2617943c22450cc74118489c9e' },
      }),
    ).toBe(REF.joincSettings);
  });

  it('matches {{json .NetworkSettings.Ports}} for p1 and p4, and exposed-only ports', () => {
    const b = (containerPort: number, hostIp: string, hostPort: number): PortBinding => ({
      proto: 'tcp', containerPort, hostIp, hostPort,
    });
    expect(goJson(buildPortMap([b(80, '0.0.0.0', 8080), b(80, '::', 8080)])) + '\n').toBe(REF.p1Ports);
    expect(
      goJson(buildPortMap([b(80, '0.0.0.0', 32770), b(80, '::', 32770), b(443, '0.0.0.0', 32769), b(443, '::', 32769)])) + '\n',
    ).toBe(REF.p4Ports);
    expect(goJson(buildPortMap([], [{ proto: 'tcp', port: 80 }, { proto: 'udp', port: 9000 }]))).toBe(
      '{"80/tcp":null,"9000/udp":null}',
    );
  });
});

describe('goJson', () => {
  it('sorts map keys and keeps struct order', () => {
    expect(goJson({ b: 1, a: sortedMap({ z: 1, y: 2 }) })).toBe('{"b":1,"a":{"y":2,"z":1}}');
    expect(goJson(goMap({ b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
    expect(goJson({ x: '\u2028' })).toBe('{"x":"\\u2028"}');
    expect(goJson({ a: [], b: {} }, { indent: '    ' })).toBe('{\n    "a": [],\n    "b": {}\n}');
  });
});
