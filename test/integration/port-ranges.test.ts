// Port ranges take one rule per run of consecutive ports (src/firewall/port-runs.ts):
// the shifted DNAT (`--to-destination IP:80-82/8000`) and the port-less one
// (identity ranges) must deliver every port of the range to the right
// container port, the kernel must print the rules exactly as plumb renders
// them (system check), and publishing again after a stop must only add rules
// (src/firewall/update.ts), which is what keeps it fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab } from '../helpers/lab.js';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

let lab: Lab;

beforeAll(() => {
  lab = Lab.create({ tag: 'prange' });
});

afterAll(async () => {
  await lab.teardown();
});

/** A server answering "port N" on each container port N. */
function servers(ports: number[]): string[] {
  const each = ports.map((p) => `socat TCP-LISTEN:${p},fork,reuseaddr SYSTEM:'echo port ${p}' &`).join(' ');
  return ['sh', '-c', `${each} wait`];
}

/** What answers on the host's uplink address, port `port`, seen from the wan ('' when nothing does). */
async function fromWan(port: number): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const r = await lab.exec(['socat', '-T2', '-', `TCP:${HOST_UPLINK_IP}:${port},connect-timeout=1`], lab.wan!);
    if (r.stdout.trim()) return r.stdout.trim();
    await new Promise((res) => setTimeout(res, 100));
  }
  return '';
}

describe('published port ranges', () => {
  it('a shifted range reaches each container port through one DNAT rule', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'shifted', '-p', '8000-8002:80-82', 'debian', ...servers([80, 81, 82])]);
    expect(await fromWan(8000)).toBe('port 80');
    expect(await fromWan(8002)).toBe('port 82');
    const ip = (await lab.plumbOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'shifted'])).trim();
    const dnat = lab.iptablesSave().split('\n').filter((l) => l.includes('plumb: shifted ') && l.includes('-j DNAT'));
    expect(dnat).toEqual([expect.stringContaining(`--dport 8000:8002 `)]);
    expect(dnat[0]).toContain(`--to-destination ${ip}:80-82/8000`);
  });

  it('an identity range keeps each port, through one DNAT rule without a port', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'same', '-p', '7000-7002:7000-7002', 'debian', ...servers([7000, 7001, 7002])]);
    expect(await fromWan(7001)).toBe('port 7001');
    expect(await fromWan(7002)).toBe('port 7002');
    const rules = lab.iptablesSave().split('\n').filter((l) => l.includes('plumb: same '));
    expect(rules).toHaveLength(5);
  });

  it('the kernel holds exactly the rules plumb renders', async () => {
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout).toBe('ok: the kernel matches the store\n');
  });

  it('publishing again after a stop only adds rules', async () => {
    await lab.plumbOk(['stop', 'same']);
    expect(lab.iptablesSave()).not.toMatch(/plumb: same /);
    const r = await lab.plumb(['--explain', 'start', 'same']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines.filter((l) => /^-[AI] /.test(l) && l.includes('plumb: same '))).toHaveLength(5);
    expect(lines.filter((l) => /^(-D |:PLUMB)/.test(l))).toEqual([]);
    expect(await fromWan(7000)).toBe('port 7000');
    await lab.plumbOk(['rm', '-f', 'shifted', 'same']);
    expect(lab.iptablesSave()).not.toMatch(/plumb: (shifted|same) /);
  });
});
