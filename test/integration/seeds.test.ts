// The commands of the seed tutorials (../shared/seeds/), verbatim with
// `docker` replaced by `plumb`, each checked for the outcome its tutorial
// describes. Where a command needs a program from an image, the host's own
// program of the same name runs instead (there are no images).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../helpers/lab.js';

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
