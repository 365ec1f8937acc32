// plumb system check / gc / reset --verify. Crashes: `plumb run` is SIGKILLed
// before each of its steps (PLUMB_CRASH_AT_STEP); check must report what it
// left, gc remove it, and the next run get the crashed one's address. Wiped
// firewall: `iptables -F` in every table of a lab host with three networks and
// published ports, then gc brings every rule (and the traffic) back. Reset:
// after all of it, the host is as plumb found it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab } from '../helpers/lab.js';
import { hostState, normaliseSave } from '../helpers/host-state.js';

let lab: Lab;

beforeAll(() => {
  lab = Lab.create({ tag: 'gc' });
});

afterAll(async () => {
  await lab.teardown();
});

async function ipOf(name: string, network: string): Promise<string> {
  return (await lab.plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${network}.IPAddress}}`, name])).trim();
}

/** Addresses inside the sandboxes plumb's runtime dir holds but the store does not know. */
function strayAddresses(known: Set<string>): string[] {
  const dir = join(lab.root, 'run', 'netns');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => !known.has(f));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    const out = spawnSyncJson(['nsenter', `--net=${join(dir, f)}`, 'ip', '-j', 'addr', 'show']);
    return out.flatMap((l: { ifname: string; addr_info: Array<{ family: string; local: string }> }) =>
      l.ifname === 'lo' ? [] : l.addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
    );
  });
}

function spawnSyncJson(argv: string[]): any[] {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return JSON.parse(r.stdout || '[]');
}

describe('crash at every step of plumb run', () => {
  it('check reports the leftovers, gc removes them, and the next run gets the reserved address back', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.77.0.0/24', 'crashnet']);
    const before = hostState(lab);
    const args = ['run', '-d', '--name', 'crash', '--network', 'crashnet', '-p', '8080:80', 'busybox', 'sleep', '3600'];
    let step = 1;
    let addressesSeen = 0;
    for (; step < 60; step++) {
      const r = await lab.plumb(args, { env: { PLUMB_CRASH_AT_STEP: String(step) } });
      if (r.code === 0) break;
      expect(r.code, `step ${step}: killed`).toBe(128);
      const stray = strayAddresses(new Set());
      const check = await lab.plumb(['system', 'check']);
      // Even a kill before step 1 leaves the container's directory, made just before it.
      expect(check.code, `step ${step}: check must see the leftovers`).toBe(1);
      expect(check.stdout).toMatch(/^leftover: /m);
      const gc = await lab.plumb(['system', 'gc']);
      expect(gc.code, gc.stdout + gc.stderr).toBe(0);
      const after = await lab.plumb(['system', 'check']);
      expect(after.stdout, `step ${step}: check after gc`).toBe('ok: the kernel matches the store\n');
      expect(hostState(lab), `step ${step}: host after gc`).toEqual(before);
      if (stray.length) {
        // The crashed run had configured its address: after gc it is free and handed out again.
        addressesSeen++;
        await lab.plumbOk(['run', '-d', '--name', 'next', '--network', 'crashnet', 'busybox']);
        expect(await ipOf('next', 'crashnet')).toBe(stray[0]);
        await lab.plumbOk(['rm', '-f', 'next']);
      }
    }
    expect(step - 1, 'number of steps of plumb run').toBeGreaterThanOrEqual(9);
    expect(addressesSeen).toBeGreaterThan(0);
    expect(await ipOf('crash', 'crashnet')).toBe('10.77.0.2');
    await lab.plumbOk(['rm', '-f', 'crash']);
    await lab.plumbOk(['network', 'rm', 'crashnet']);
  });

  it('a crash in network create leaves a bridge that gc removes (named in the write-ahead journal)', async () => {
    const before = hostState(lab);
    const r = await lab.plumb(['network', 'create', '--subnet', '10.78.0.0/24', 'halfnet'], { env: { PLUMB_CRASH_AT_STEP: '3' } });
    expect(r.code).toBe(128);
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout).toMatch(/^leftover: bridge br-[0-9a-f]{12} was made by an operation that did not finish$/m);
    await lab.plumbOk(['system', 'gc']);
    expect(hostState(lab)).toEqual(before);
  });
});

/** Connects from the wan to a port published on the host's uplink address; the containers answer with their name. */
async function reach(port: number): Promise<string> {
  const r = await lab.exec(['nc', '-w', '2', HOST_UPLINK_IP, String(port)], lab.wan!);
  return r.stdout.trim();
}

async function waitReach(port: number, want: string): Promise<string> {
  let got = '';
  for (let i = 0; i < 40; i++) {
    got = await reach(port);
    if (got === want) return got;
    await new Promise((res) => setTimeout(res, 50));
  }
  return got;
}

describe('iptables -F in every table, then gc', () => {
  const nets = ['gca', 'gcb', 'gcc'];

  it('publishes a port on each of three networks and reaches each from the wan', async () => {
    for (const [i, n] of nets.entries()) {
      await lab.plumbOk(['network', 'create', n]);
      await lab.plumbOk([
        'run', '-d', '--name', `web${i}`, '--network', n, '-p', `${8100 + i}:80`, 'busybox',
        'socat', 'TCP-LISTEN:80,reuseaddr,fork', `SYSTEM:echo web${i}`,
      ]);
    }
    for (const i of [0, 1, 2]) expect(await waitReach(8100 + i, `web${i}`)).toBe(`web${i}`);
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout).toBe('ok: the kernel matches the store\n');
  });

  it('after the flush: check names the owners of the missing rules, traffic fails', async () => {
    const rules = normaliseSave(lab.iptablesSave());
    for (const table of ['filter', 'nat', 'raw', 'mangle']) {
      const r = await lab.exec(['iptables', '-t', table, '-F']);
      expect(r.code).toBe(0);
    }
    expect(normaliseSave(lab.iptablesSave())).not.toEqual(rules);
    expect(await reach(8100)).toBe('');
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    for (const n of nets) expect(check.stdout).toMatch(new RegExp(`^network ${n}: rule missing: `, 'm'));
    for (const i of [0, 1, 2]) expect(check.stdout).toMatch(new RegExp(`^container web${i}: rule missing: -t nat -A PLUMB `, 'm'));
    expect(check.stdout).toMatch(/^firewall: jump missing: /m);

    const gc = await lab.plumb(['system', 'gc']);
    expect(gc.code, gc.stdout).toBe(0);
    expect(normaliseSave(lab.iptablesSave())).toEqual(rules);
    for (const i of [0, 1, 2]) expect(await waitReach(8100 + i, `web${i}`)).toBe(`web${i}`);
    const again = await lab.plumb(['system', 'gc']);
    expect(again.stdout).toBe('ok: nothing to repair\n');
  });

  it('re-creates a deleted bridge address, a downed bridge and a deleted endpoint', async () => {
    const id = JSON.parse(await lab.plumbOk(['network', 'inspect', 'gcb']))[0].Id as string;
    const bridge = `br-${id.slice(0, 12)}`;
    const veth = JSON.parse(await lab.plumbOk(['inspect', 'web0']))[0].NetworkSettings.Networks.gca.Plumb?.HostVeth as string | undefined;
    const ip0 = await ipOf('web0', 'gca');
    await lab.exec(['ip', 'addr', 'flush', 'dev', bridge]);
    await lab.exec(['ip', 'link', 'set', bridge, 'down']);
    const hostVeth = veth ?? lab.ipJson<Array<{ ifname: string; master?: string }>>(['link', 'show']).find((l) => /^veth/.test(l.ifname) && l.master?.startsWith('br-'))!.ifname;
    await lab.exec(['ip', 'link', 'del', hostVeth]);
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout).toMatch(new RegExp(`^network gcb: bridge ${bridge} is down$`, 'm'));
    expect(check.stdout).toMatch(new RegExp(`^network gcb: bridge ${bridge} lacks the gateway address `, 'm'));
    expect(check.stdout).toMatch(/^container web\d: veth veth[0-9a-f]{7} .* is missing$/m);
    expect((await lab.plumb(['system', 'gc'])).code).toBe(0);
    expect((await lab.plumb(['system', 'check'])).stdout).toBe('ok: the kernel matches the store\n');
    for (const i of [0, 1, 2]) expect(await waitReach(8100 + i, `web${i}`)).toBe(`web${i}`);
    expect(await ipOf('web0', 'gca')).toBe(ip0);
  });

  it('system reset --verify: the host is as plumb found it', async () => {
    const r = await lab.plumb(['system', 'reset', '--verify']);
    expect(r.stdout).toContain('verify: the host is as plumb found it');
    expect(r.code).toBe(0);
  });

  it('system reset --verify reports what differs (a link added meanwhile)', async () => {
    await lab.plumbOk(['network', 'create', 'again']);
    expect((await lab.exec(['ip', 'link', 'add', 'strayx', 'type', 'veth', 'peer', 'name', 'strayy'])).code).toBe(0);
    const r = await lab.plumb(['system', 'reset', '--verify']);
    await lab.exec(['ip', 'link', 'del', 'strayx']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^verify: \+ link strayx veth down mtu 1500$/m);
    expect(r.stdout).toMatch(/^verify: \+ link strayy veth down mtu 1500$/m);
  });
});

