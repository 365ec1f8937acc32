// Repair on a healthy two-host overlay: the overlay network's namespace on a
// host (1-<id>, holding br0 and vxlan0) belongs to the network, not to a
// container, so `system check` must call the host healthy and `system gc`
// must leave it alone; cross-host traffic keeps flowing through both. Then a
// real fault (vxlan0 removed) must be reported, not silently ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiHost, type LabHost } from '../helpers/multihost.js';

let lab: MultiHost;
let h1: LabHost;
let h2: LabHost;

beforeAll(async () => {
  lab = await MultiHost.create({ hosts: 2, tag: 'rov' });
  [h1, h2] = [lab.host(1), lab.host(2)];
}, 60_000);

afterAll(async () => {
  await lab?.teardown();
}, 120_000);

async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ipOf(h: LabHost, container: string, net: string): Promise<string> {
  return (await h.plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${net}.IPAddress}}`, container])).trim();
}

const ping = async (h: LabHost, container: string, ip: string) => (await h.plumb(['exec', container, 'ping', '-c1', '-W1', ip])).code === 0;

function overlayLinks(h: LabHost, netId: string): string[] {
  return h
    .ipJson<Array<{ ifname: string }>>(['link', 'show'], h.overlayNs(netId))
    .map((l) => l.ifname)
    .sort();
}

describe('system check and gc on a healthy two-host overlay', () => {
  let netId: string;
  let ip1: string;
  let ip2: string;

  it('builds the overlay with one container per host, pinging across', async () => {
    await h1.plumbOk(['network', 'create', '-d', 'overlay', 'ov']);
    await h1.plumbOk(['run', '-d', '--name', 'b1', '--network', 'ov', 'busybox']);
    await h2.plumbOk(['run', '-d', '--name', 'b2', '--network', 'ov', 'busybox']);
    netId = JSON.parse(await h1.plumbOk(['network', 'inspect', 'ov']))[0].Id;
    ip1 = await ipOf(h1, 'b1', 'ov');
    ip2 = await ipOf(h2, 'b2', 'ov');
    expect(await eventually(() => ping(h1, 'b1', ip2))).toBe(true);
    expect(await eventually(() => ping(h2, 'b2', ip1))).toBe(true);
  });

  it('check says ok on both hosts (the 1-<id> namespace is the network\'s, not a stray sandbox)', async () => {
    for (const h of [h1, h2]) {
      const r = await h.plumb(['system', 'check']);
      expect(r.stdout, `${h.name}: ${r.stderr}`).toBe('ok: the kernel matches the store\n');
      expect(r.code).toBe(0);
    }
  });

  it('gc repairs nothing, br0 / vxlan0 / the veths stay, and traffic still crosses hosts', async () => {
    const before = [overlayLinks(h1, netId), overlayLinks(h2, netId)];
    expect(before[0]).toEqual(expect.arrayContaining(['br0', 'vxlan0']));
    for (const h of [h1, h2]) {
      const r = await h.plumb(['system', 'gc']);
      expect(r.stdout, `${h.name}: ${r.stderr}`).toBe('ok: nothing to repair\n');
      expect(r.code).toBe(0);
    }
    expect([overlayLinks(h1, netId), overlayLinks(h2, netId)]).toEqual(before);
    expect(await ping(h1, 'b1', ip2)).toBe(true);
    expect(await ping(h2, 'b2', ip1)).toBe(true);
  });

  it('a deleted vxlan0 is reported as a finding of the network (check is not blind to the overlay namespace)', async () => {
    const del = await h1.exec(['nsenter', `--net=${h1.overlayNs(netId)}`, 'ip', 'link', 'del', 'vxlan0']);
    expect(del.code, del.stderr).toBe(0);
    const check = await h1.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^network ov: vxlan0 is missing from its overlay namespace 1-[0-9a-f]{10}/m);
    expect(check.stdout).not.toMatch(/^leftover: /m);
  });
});
