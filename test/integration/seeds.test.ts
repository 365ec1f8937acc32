// The commands of the seed tutorials (../shared/seeds/), verbatim with
// `docker` replaced by `plumb`, each checked for the outcome its tutorial
// describes. Where a command needs a program from an image, the host's own
// program of the same name runs instead (there are no images).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, useHostResolvConf } from '../helpers/dns.js';
import { Lab, PLUMB_BIN } from '../helpers/lab.js';
import { INTERNET_IP, MultiHost, type LabHost } from '../helpers/multihost.js';

/** Splits a seed command line like a shell would (quotes, no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

let lab: Lab;

/** Runs one seed line (`plumb ...`) in the lab host. */
async function seed(line: string) {
  const argv = words(line);
  expect(argv[0]).toBe('plumb');
  return lab.plumb(argv.slice(1));
}

async function seedOk(line: string): Promise<string> {
  const r = await seed(line);
  if (r.code !== 0) throw new Error(`${line}\nexit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  lab = Lab.create({ tag: 'seed' });
});

afterAll(async () => {
  await lab.teardown();
});

describe('seed 000: networks, --network, -e', () => {
  it('creates the individual network and lists it with ls and list', async () => {
    expect((await seedOk('plumb network create -d bridge individual')).trim()).toMatch(/^[0-9a-f]{64}$/);
    for (const cmd of ['plumb network ls', 'plumb network list']) {
      const out = await seedOk(cmd);
      expect(out).toMatch(/\sindividual\s+bridge\s+local/);
      expect(out).toMatch(/\sbridge\s+bridge\s+local/);
    }
  });

  it('runs mysql on individual with an environment variable', async () => {
    await seedOk('plumb run -d --name mysql -e MYSQL_RANDOM_ROOT_PASSWORD=yes --network individual mysql:5.7');
    const ps = await seedOk('plumb ps');
    expect(ps).toMatch(/mysql:5\.7 .* mysql$/m);
    const inspect = JSON.parse(await seedOk('plumb inspect mysql'));
    expect(inspect[0].Config.Env).toContain('MYSQL_RANDOM_ROOT_PASSWORD=yes');
    expect(inspect[0].NetworkSettings.Networks.individual.IPAddress).toMatch(/^172\.\d+\.0\.2$/);
  });
});

describe('seed 001: a user bridge and containers on it', () => {
  it('creates my-bridge and shows it next to bridge, host and none', async () => {
    await seedOk('plumb network create -d bridge my-bridge');
    const ls = await seedOk('plumb network ls');
    const names = ls.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s{3,}/)[1]);
    expect(names).toEqual(expect.arrayContaining(['bridge', 'host', 'my-bridge', 'none']));
  });

  it('plugs test3 into my-bridge: its bridge gains a port (brctl show)', async () => {
    const id = JSON.parse(await seedOk('plumb network inspect my-bridge'))[0].Id as string;
    const bridge = `br-${id.slice(0, 12)}`;
    const portsBefore = (await lab.exec(['ip', '-j', 'link', 'show', 'master', bridge])).stdout;
    expect(JSON.parse(portsBefore || '[]')).toHaveLength(0);
    await seedOk('plumb run -d --name=test3 --network my-bridge busybox /bin/sh -c "while true; do sleep 3600; done"');
    const portsAfter = JSON.parse((await lab.exec(['ip', '-j', 'link', 'show', 'master', bridge])).stdout);
    expect(portsAfter).toHaveLength(1);
    expect(portsAfter[0].ifname).toMatch(/^veth[0-9a-f]{7}$/);
    const ps = await seedOk('plumb ps --no-trunc --format "{{.Names}} {{.Command}}"');
    expect(ps).toMatch(/^test3 "\/bin\/sh -c while true; do sleep 3600; done"$/m);
  });

  it('runs test1 on the default bridge with the tutorial command, and it stays up', async () => {
    await seedOk('plumb run -d --name test1 busybox /bin/sh -c "while true; do sleep 3600; done"');
    const status = await seedOk('plumb ps -a --format "{{.Names}} {{.Status}}"');
    expect(status).toMatch(/^test1 Up /m);
    const ip = (await seedOk('plumb inspect -f "{{.NetworkSettings.IPAddress}}" test1')).trim();
    expect(ip).toMatch(/^172\.17\.0\.\d+$/);
  });

  it('keeps my-bridge and the default bridge apart', async () => {
    const test1 = (await seedOk('plumb inspect -f "{{.NetworkSettings.IPAddress}}" test1')).trim();
    const r = await lab.plumb(['exec', 'test3', 'ping', '-c1', '-W1', test1]);
    expect(r.code).not.toBe(0);
  });
});

describe('seed 002: a network with its own subnet and gateway', () => {
  it('creates mynet 192.168.0.0/16 with gateway 192.168.0.1', async () => {
    await seedOk('plumb network create --driver bridge --subnet 192.168.0.0/16 --gateway 192.168.0.1 mynet');
    const cfg = JSON.parse(await seedOk('plumb network inspect mynet'))[0].IPAM.Config[0];
    expect(cfg).toEqual({ Subnet: '192.168.0.0/16', Gateway: '192.168.0.1' });
  });

  it('runs tomcat_net_1 and tomcat_net_2 on mynet; they reach each other', async () => {
    await seedOk('plumb run -d --name tomcat_net_1 --net mynet tomcat');
    await seedOk('plumb run -d --name tomcat_net_2 --net mynet tomcat');
    const ip2 = (await seedOk('plumb inspect -f "{{.NetworkSettings.Networks.mynet.IPAddress}}" tomcat_net_2')).trim();
    expect(ip2).toBe('192.168.0.3');
    const r = await lab.plumb(['exec', 'tomcat_net_1', 'ping', '-c1', '-W1', ip2]);
    expect(r.code).toBe(0);
  });
});

describe('seed 00x: ports', () => {
  // The lab host's uplink address (HOST_UPLINK_IP of test/helpers/lab.ts): "outside" reaches the host here.
  const uplink = '203.0.113.1';

  /** The PORTS column of `plumb ps` for one container. */
  async function portsColumn(name: string): Promise<string> {
    const rows = (await seedOk('plumb ps -a --format "{{.Names}}|{{.Ports}}"')).split('\n');
    return rows.find((r) => r.startsWith(`${name}|`))?.slice(name.length + 1) ?? '(not listed)';
  }

  it('000: -p 80:80 -p 443:443 publishes both ports on every host address', async () => {
    await seedOk('plumb run -d --name nginx -p 80:80 -p 443:443 nginx:1.12');
    expect(await portsColumn('nginx')).toBe('0.0.0.0:80->80/tcp, 0.0.0.0:443->443/tcp');
    expect(await seedOk('plumb port nginx')).toBe('443/tcp -> 0.0.0.0:443\n80/tcp -> 0.0.0.0:80\n');
    const nat = lab.iptablesSave().split('\n').filter((l) => l.includes('-j DNAT') && l.includes('plumb: nginx '));
    expect(nat).toHaveLength(2);
    await seedOk('plumb rm -f nginx');
  });

  it('003: the same command; docker ps marks each mapping with ->', async () => {
    await seedOk('plumb run -d --name nginx -p 80:80 -p 443:443 nginx:1.12');
    // the tutorial's row: "... 0.0.0.0:80->80/tcp, 0.0.0.0:443->443/tcp   nginx"
    expect(await seedOk('plumb ps')).toMatch(/ 0\.0\.0\.0:80->80\/tcp, 0\.0\.0\.0:443->443\/tcp {3}nginx$/m);
    await seedOk('plumb rm -f nginx');
  });

  it('001: -p 80:80 makes web reachable from outside', async () => {
    await seedOk('plumb run -d --name=web -p 80:80 nginx');
    expect(await portsColumn('web')).toBe('0.0.0.0:80->80/tcp');
    // the tutorial lists it with the container group: "... Up 2 minutes   0.0.0.0:80->80/tcp   web"
    expect(await seedOk('plumb container ls')).toMatch(/ Up .* {3}0\.0\.0\.0:80->80\/tcp {3}web$/m);
    // stand-in for nginx: answer one connection on port 80 inside web
    const server = lab.plumb(['exec', 'web', 'socat', '-T5', 'TCP-LISTEN:80,reuseaddr', 'SYSTEM:echo welcome to nginx']);
    let reply = '';
    for (let i = 0; i < 40 && !reply; i++) {
      reply = (await lab.exec(['socat', '-T2', '-', `TCP:${uplink}:80,connect-timeout=1`], lab.wan!)).stdout.trim();
      if (!reply) await new Promise((res) => setTimeout(res, 100));
    }
    expect(reply).toBe('welcome to nginx');
    expect((await server).code).toBe(0);
  });
});

describe('seeds 000-002: names — --link, user networks, network connect', () => {
  // Name lookups that fail must not leave the lab: the default bridge copies
  // the host's resolv.conf, so point plumb at an empty one (no nameserver: the
  // resolver library falls back to 127.0.0.1 inside the sandbox, where nothing
  // answers). Set for every plumb command from here on.
  let restoreResolvConf: (() => void) | undefined;
  beforeAll(() => {
    restoreResolvConf = useHostResolvConf(lab.root, []);
  });
  afterAll(() => restoreResolvConf?.());

  const ipOf = async (name: string) => (await seedOk(`plumb inspect -f "{{.NetworkSettings.IPAddress}}" ${name}`)).trim();
  const id12 = async (name: string) => (await seedOk(`plumb inspect -f "{{.Id}}" ${name}`)).trim().slice(0, 12);
  const pings = async (from: string, to: string) => (await lab.plumb(['exec', from, 'ping', '-c1', '-W1', to])).code === 0;

  it('000: --link mysql:database on the default bridge resolves database, with the link variables', async () => {
    await seedOk('plumb rm -f mysql');
    await seedOk('plumb run -d --name mysql -e MYSQL_RANDOM_ROOT_PASSWORD=yes --expose 13306 --expose 23306 mysql:5.7');
    await seedOk('plumb run -d --name webapp --link mysql:database webapp:latest');
    const ip = await ipOf('mysql');
    expect(await seedOk('plumb exec webapp cat /etc/hosts')).toContain(`\n${ip}\tdatabase ${await id12('mysql')} mysql\n`);
    expect(await pings('webapp', 'database')).toBe(true);
    const env = await seedOk('plumb exec webapp env');
    expect(env).toContain(`DATABASE_PORT=tcp://${ip}:13306\n`);
    expect(env).toContain(`DATABASE_PORT_23306_TCP=tcp://${ip}:23306\n`);
    expect(env).toContain('DATABASE_NAME=/webapp/database\n');
    expect(env).toContain('DATABASE_ENV_MYSQL_RANDOM_ROOT_PASSWORD=yes\n');
  });

  it('000: on the individual network, --link mysql resolves through the embedded DNS', async () => {
    await seedOk('plumb rm -f webapp mysql');
    await seedOk('plumb run -d --name mysql -e MYSQL_RANDOM_ROOT_PASSWORD=yes --network individual mysql:5.7');
    await seedOk('plumb run -d --name webapp --link mysql --network individual webapp:latest');
    expect(await seedOk('plumb exec webapp cat /etc/resolv.conf')).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    const ip = (await seedOk('plumb inspect -f "{{.NetworkSettings.Networks.individual.IPAddress}}" mysql')).trim();
    expect((await seedOk('plumb exec webapp getent hosts mysql')).trim()).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+mysql`));
    expect(await pings('webapp', 'mysql')).toBe(true);
    await seedOk('plumb rm -f webapp mysql');
  });

  it('001: test2 --link test1 pings test1 by name; the link is one-way', async () => {
    // "first start test1 from the previous section" (it is restarted so its files follow this block's resolv.conf).
    await seedOk('plumb stop test1');
    await seedOk('plumb start test1');
    await seedOk('plumb run -d --name=test2 --link test1 busybox /bin/sh -c "while true; do sleep 3600; done"');
    expect(await seedOk('plumb exec test2 cat /etc/hosts')).toContain(`\n${await ipOf('test1')}\ttest1 ${await id12('test1')}\n`);
    expect(await pings('test2', 'test1')).toBe(true);
    expect(await pings('test1', 'test2')).toBe(false);
    expect(await seedOk('plumb exec test1 cat /etc/hosts')).not.toMatch(/test2/);
  });

  it('001: network connect my-bridge test2: test2 and test3 reach each other by name', async () => {
    expect(await pings('test2', 'test3')).toBe(false);
    await seedOk('plumb network connect my-bridge test2');
    expect(await pings('test2', 'test3')).toBe(true);
    expect(await pings('test3', 'test2')).toBe(true);
    // The legacy link still works, and the default route stays on the default bridge.
    expect(await pings('test2', 'test1')).toBe(true);
    const routes = JSON.parse(await seedOk('plumb exec test2 ip -j route')) as Array<{ dst: string; gateway?: string }>;
    expect(routes.find((r) => r.dst === 'default')?.gateway).toBe('172.17.0.1');
  });

  it('002: tomcat01 --link tomcat02 gets a hosts line and pings tomcat02 by name', async () => {
    await seedOk('plumb run -d --name tomcat02 tomcat');
    await seedOk('plumb run -d --name tomcat01 --link tomcat02 tomcat');
    const ip = await ipOf('tomcat02');
    expect(await seedOk('plumb exec -it tomcat01 cat /etc/hosts')).toContain(`\n${ip}\ttomcat02 ${await id12('tomcat02')}\n`);
    expect((await seed(`plumb exec -it tomcat01 ping -c1 -W1 ${ip}`)).code).toBe(0);
    expect(await pings('tomcat01', 'tomcat02')).toBe(true);
    expect(await pings('tomcat02', 'tomcat01')).toBe(false);
  });

  it('002: tomcat_net_1 pings tomcat_net_2 by name on mynet', async () => {
    expect((await seed('plumb exec tomcat_net_1 ping -c1 -W1 tomcat_net_2')).code).toBe(0);
    expect((await seed('plumb exec tomcat_net_2 ping -c1 -W1 tomcat_net_1')).code).toBe(0);
  });

  it('002: tomcat_1 on the default bridge cannot reach tomcat_net_1 until network connect mynet tomcat_1', async () => {
    await seedOk('plumb run -d --name tomcat_1 tomcat');
    const net1 = (await seedOk('plumb inspect -f "{{.NetworkSettings.Networks.mynet.IPAddress}}" tomcat_net_1')).trim();
    expect(await pings('tomcat_1', 'tomcat_net_1')).toBe(false);
    expect(await pings('tomcat_1', net1)).toBe(false);
    expect(await seedOk('plumb network connect mynet tomcat_1')).toBe('');
    expect((await seed('plumb exec -it tomcat_1 ping -c1 -W1 tomcat_net_1')).code).toBe(0);
    expect(await pings('tomcat_net_1', 'tomcat_1')).toBe(true);
    const eth1 = JSON.parse(await seedOk('plumb exec tomcat_1 ip -j addr show eth1'))[0].addr_info[0].local as string;
    expect(eth1).toBe((await seedOk('plumb inspect -f "{{.NetworkSettings.Networks.mynet.IPAddress}}" tomcat_1')).trim());
    expect(eth1).toMatch(/^192\.168\.0\.\d+$/);
  });
});

describe('seeds 001, 002, 004: host, none and container network modes', () => {
  /** A seed line run with commands on stdin: the tests have no terminal, so `-it` reads a pipe instead. */
  async function seedWithInput(line: string, input: string) {
    const argv = words(line);
    expect(argv[0]).toBe('plumb');
    return lab.plumb(argv.slice(1), { input });
  }

  it('004: run -it --name ynlwys-host --net=host busybox sh shares the host network (commands fed on stdin)', async () => {
    const r = await seedWithInput('plumb run -it --name ynlwys-host --net=host busybox sh', 'ip -o -4 addr show eth0\nexit 0\n');
    expect(r.code).toBe(0);
    // The lab host's own uplink address, seen from inside the container.
    expect(r.stdout).toMatch(/\beth0\s+inet 203\.0\.113\.1\/24\b/);
    expect(await seedOk('plumb ps -a --format "{{.Names}} {{.Status}} {{.Ports}}"')).toMatch(/^ynlwys-host Exited \(0\) .*$/m);
  });

  it('001: a none container has only lo and is reached with exec -it [name] /bin/sh', async () => {
    await seedOk('plumb run -d --name isolated --network none busybox');
    const r = await seedWithInput('plumb exec -it isolated /bin/sh', 'ip -o link show\n');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.split(':')[1]!.trim())).toEqual(['lo']);
  });

  it('002: container mode (the tutorial lists it next to bridge, none and host) shares the other container\'s address', async () => {
    await seedOk('plumb run -d --name mode-bridge busybox');
    await seedOk('plumb run -d --name mode-container --net container:mode-bridge busybox');
    const bridgeIp = (await seedOk('plumb inspect -f "{{.NetworkSettings.IPAddress}}" mode-bridge')).trim();
    const shared = JSON.parse(await seedOk('plumb exec mode-container ip -j -4 addr show eth0'))[0].addr_info[0].local;
    expect(shared).toBe(bridgeIp);
    expect((await seedOk('plumb inspect -f "{{.HostConfig.NetworkMode}}" mode-container')).trim()).toMatch(/^container:[0-9a-f]{64}$/);
  });
});

describe('seed 004 on a single host: overlay needs a cluster store', () => {
  it('plumb network create -d overlay ov_net1 fails with one line saying what to configure, and changes nothing', async () => {
    const before = await seedOk('plumb network ls');
    const r = await seed('plumb network create -d overlay ov_net1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: overlay networks need a cluster store: start plumb with --cluster-store etcd:\/\/HOST:2379 --cluster-advertise IP\|IFACE .*\n$/);
    expect(await seedOk('plumb network ls')).toBe(before);
  });
});

// Seed 004 across hosts: the tutorial's two hosts, each running plumb with the
// cluster store (etcd here, consul in the seed), in a multi-host lab
// (test/helpers/multihost.ts). The seed's `ping` has no -c: like a learner
// pressing Ctrl-C, the test sends SIGINT once the first reply is printed.
describe('seed 004 across two hosts: overlay on a cluster store', () => {
  let hosts: MultiHost;
  let upstream: FakeUpstream | undefined;
  let restoreResolvConf: (() => void) | undefined;

  /** Runs one seed line on a host, like seed() above. */
  async function seedOn(h: LabHost, line: string): Promise<string> {
    const argv = words(line);
    expect(argv[0]).toBe('plumb');
    return h.plumbOk(argv.slice(1));
  }

  /** Runs a seed line that prints until interrupted; SIGINT after its first reply line (or after 10 s). */
  function seedUntilReply(h: LabHost, line: string): Promise<{ code: number | null; stdout: string }> {
    const argv = words(line);
    expect(argv[0]).toBe('plumb');
    const child = spawn('nsenter', [`--net=/run/netns/${h.ns}`, process.execPath, PLUMB_BIN, ...argv.slice(1)], {
      env: h.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const interrupt = () => child.exitCode === null && child.signalCode === null && child.kill('SIGINT');
    const giveUp = setTimeout(interrupt, 10_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/bytes from/.test(stdout)) interrupt();
    });
    return new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(giveUp);
        resolve({ code, stdout });
      }),
    );
  }

  beforeAll(async () => {
    hosts = await MultiHost.create({ hosts: 2, tag: 's04' });
    // "The internet": www.baidu.com is answered by a DNS server in the lab's wan with the wan's own address.
    restoreResolvConf = useHostResolvConf(hosts.host(1).root, [INTERNET_IP]);
    upstream = await FakeUpstream.start(`/run/netns/${hosts.wan}`, [INTERNET_IP], [{ server: INTERNET_IP, zone: 'www.baidu.com', ip: INTERNET_IP }]);
  }, 60_000);

  afterAll(async () => {
    upstream?.stop();
    restoreResolvConf?.();
    await hosts?.teardown();
  }, 120_000);

  it('plumb network create -d overlay ov_net1 on host 1; plumb network ls on both hosts shows it, scope global', async () => {
    const [h1, h2] = [hosts.host(1), hosts.host(2)];
    expect((await seedOn(h1, 'plumb network create -d overlay ov_net1')).trim()).toMatch(/^[0-9a-f]{64}$/);
    for (const h of [h1, h2]) expect(await seedOn(h, 'plumb network ls')).toMatch(/^[0-9a-f]{12}\s+ov_net1\s+overlay\s+global$/m);
  });

  it('plumb run -itd --name bbbox1 / bbbox2 --network ov_net1 busybox on host 1 / host 2', async () => {
    await seedOn(hosts.host(1), 'plumb run -itd --name bbbox1 --network ov_net1 busybox');
    await seedOn(hosts.host(2), 'plumb run -itd --name bbbox2 --network ov_net1 busybox');
    expect(await seedOn(hosts.host(2), 'plumb ps')).toMatch(/\sbbbox2\n?$/m);
  });

  it('plumb exec bbbox1 ping bbbox2: host 1 resolves the container of host 2 and reaches it over VXLAN', async () => {
    const bbbox2 = (await hosts.host(2).plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.ov_net1.IPAddress}}', 'bbbox2'])).trim();
    // Host 1 learns of bbbox2 from etcd a moment after the run: the seed's learner would simply try again.
    let r = await seedUntilReply(hosts.host(1), 'plumb exec bbbox1 ping bbbox2');
    // Poll until a deadline, not a number of tries: a failed lookup returns at once, and under load the resolver's watch lags.
    for (const deadline = Date.now() + 60_000; !/bytes from/.test(r.stdout) && Date.now() < deadline; ) {
      await new Promise((res) => setTimeout(res, 200));
      r = await seedUntilReply(hosts.host(1), 'plumb exec bbbox1 ping bbbox2');
    }
    expect(r.stdout).toContain(`PING bbbox2 (${bbbox2})`);
    // ping names the replier by its PTR answer from the embedded DNS: bbbox2.ov_net1.
    expect(r.stdout).toMatch(new RegExp(`bytes from bbbox2\\.ov_net1 \\(${bbbox2.replace(/\./g, '\\.')}\\)`));
    expect(r.code).toBe(0);
  }, 120_000);

  it('plumb exec bbbox1 ping www.baidu.com: the name goes to the upstream resolver, the packets out through plumb_gwbridge', async () => {
    const before = upstream!.asked.length;
    const r = await seedUntilReply(hosts.host(1), 'plumb exec bbbox1 ping www.baidu.com');
    expect(r.stdout).toContain(`PING www.baidu.com (${INTERNET_IP})`);
    expect(r.stdout).toMatch(new RegExp(`bytes from (\\S+ \\()?${INTERNET_IP.replace(/\./g, '\\.')}\\b`));
    expect(r.code).toBe(0);
    expect(upstream!.namesSince(before)).toContain('www.baidu.com');
  });
});
