// The transaction guarantee: a failure at any step of `plumb run` or
// `plumb network create` leaves no trace. PLUMB_FAIL_AT_STEP=N makes step N
// throw; every N is tried until the command gets through, and after each
// failure the lab host must look exactly as before (links, addresses, routes,
// iptables-save, namespace files, ip_forward) and the store must not know the
// object.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../helpers/lab.js';
import { hostState } from '../helpers/host-state.js';

let lab: Lab;

beforeAll(() => {
  lab = Lab.create({ tag: 'rb' });
});

afterAll(async () => {
  await lab.teardown();
});

/**
 * Names in the store, read from its files (plumb's read commands may create
 * the built-in networks): networks from store.json, containers from their
 * own records and the name index.
 */
function stored(kind: 'networks' | 'containers'): string[] {
  const lib = join(lab.root, 'lib');
  if (kind === 'networks') {
    try {
      const data = JSON.parse(readFileSync(join(lib, 'store.json'), 'utf8')) as { networks: Record<string, { name: string }> };
      return Object.values(data.networks).map((x) => x.name);
    } catch {
      return [];
    }
  }
  const records = join(lib, 'records');
  const named = existsSync(records) ? readdirSync(records).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(join(records, f), 'utf8')) as { name: string }).name) : [];
  const indexed = existsSync(join(lib, 'names')) ? readdirSync(join(lib, 'names')).filter((f) => !f.startsWith('.')) : [];
  return [...new Set([...named, ...indexed])];
}

/** Fails `args` at step 1, 2, ... until it succeeds; returns how many steps it has. */
async function failAtEveryStep(args: string[], stillAbsent: () => Promise<boolean>): Promise<number> {
  const before = hostState(lab);
  for (let step = 1; step < 60; step++) {
    const r = await lab.plumb(args, { env: { PLUMB_FAIL_AT_STEP: String(step) } });
    if (r.code === 0) return step - 1;
    expect(r.stderr, `step ${step}`).toContain(`injected failure at step ${step} `);
    expect(r.stderr, `step ${step}`).not.toContain('rollback failed');
    expect(hostState(lab), `state after a failure at step ${step}`).toEqual(before);
    expect(await stillAbsent(), `store after a failure at step ${step}`).toBe(true);
  }
  throw new Error(`${args.join(' ')} never succeeded`);
}

describe('failure injection', () => {
  it('network create on a fresh host (default bridge made on the way): every step rolls back', async () => {
    const steps = await failAtEveryStep(['network', 'create', '--subnet', '10.88.0.0/24', 'rbnet'], async () => !stored('networks').includes('rbnet'));
    // default bridge (add, address, up, ...) + rbnet's bridge + firewall
    expect(steps).toBeGreaterThanOrEqual(7);
    expect(stored('networks')).toContain('rbnet');
  });

  it('run with a published port and a command: every step rolls back', async () => {
    const steps = await failAtEveryStep(
      ['run', '-d', '--name', 'rb', '--network', 'rbnet', '-p', '8080:80', 'busybox', 'sleep', '3600'],
      async () => !stored('containers').includes('rb'),
    );
    // sandbox netns, registration, uts, lo, ipv6, veth, plug, configure, firewall, process at least
    expect(steps).toBeGreaterThanOrEqual(9);
    // The store check above can see a container: here it does.
    expect(stored('containers')).toContain('rb');
    expect((await lab.plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.rbnet.IPAddress}}', 'rb'])).trim()).toBe('10.88.0.2');
    await lab.plumbOk(['rm', '-f', 'rb']);
  });

  it('run in none, host and container: modes: every step rolls back', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'base', '--network', 'rbnet', 'busybox']);
    for (const mode of ['none', 'host', 'container:base']) {
      const steps = await failAtEveryStep(['run', '-d', '--name', 'moded', '--network', mode, 'busybox', 'sleep', '3600'], async () => !stored('containers').includes('moded'),
      );
      expect(steps, mode).toBeGreaterThanOrEqual(2);
      await lab.plumbOk(['rm', '-f', 'moded']);
    }
    await lab.plumbOk(['rm', '-f', 'base']);
  });

  it('network create -d macvlan: every step rolls back', async () => {
    await failAtEveryStep(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '203.0.113.0/24', '--ip-range', '203.0.113.192/26', 'rbmac'], async () => !stored('networks').includes('rbmac'));
    await failAtEveryStep(['run', '-d', '--name', 'mv', '--network', 'rbmac', 'busybox'], async () => !stored('containers').includes('mv'),
    );
    await lab.plumbOk(['rm', '-f', 'mv']);
    await lab.plumbOk(['network', 'rm', 'rbmac']);
  });

  it('network rm whose iptables-restore fails after the bridge went: the network stays, bridge and address built again', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.89.0.0/24', 'rbdoomed']);
    const id = (await lab.plumbOk(['network', 'inspect', '-f', '{{.Id}}', 'rbdoomed'])).trim();
    const bridge = `br-${id.slice(0, 12)}`;
    const before = hostState(lab);
    // An iptables-restore that refuses the batch withdrawing rbdoomed's rules, and runs the real one otherwise.
    const real = ['/usr/sbin/iptables-restore', '/sbin/iptables-restore'].find((p) => existsSync(p))!;
    const bin = join(lab.root, 'failing-restore');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'iptables-restore'),
      `#!/bin/sh\ninput=$(cat)\ncase "$input" in *"plumb: network rbdoomed"*) echo "injected: restore refused" >&2; exit 1;; esac\nprintf '%s\\n' "$input" | exec ${real} "$@"\n`,
    );
    chmodSync(join(bin, 'iptables-restore'), 0o755);
    const r = await lab.plumb(['network', 'rm', 'rbdoomed'], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain('injected: restore refused');
    expect(r.stderr).not.toContain('rollback failed');
    expect(stored('networks')).toContain('rbdoomed');
    // The bridge was deleted while the restore ran; its undo built it again, as network create had.
    expect(hostState(lab)).toEqual(before);
    expect(lab.ipJson<Array<{ ifname: string }>>(['link', 'show', bridge])[0]!.ifname).toBe(bridge);
    expect((await lab.plumb(['system', 'check'])).stdout).toBe('ok: the kernel matches the store\n');
    await lab.plumbOk(['network', 'rm', 'rbdoomed']);
  });
});
