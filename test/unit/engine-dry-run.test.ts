// Engine operations in dry-run mode against golden operation transcripts:
// the journal records every kernel change an operation would make (the ops
// --dry-run prints), nothing is changed, and the firewall goes to a recording
// backend. IDs come from fixed bytes, so the transcript is the same on every
// run; with an explicit subnet and bridge name it is the same on every machine.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAndStart } from '../../src/engine/containers/lifecycle.js';
import { Context } from '../../src/engine/core/context.js';
import { createNetwork } from '../../src/engine/networks/lifecycle.js';
import { renderScript } from '../../src/explain/render.js';
import { RecordingFirewall } from '../../src/firewall/backend.js';
import type { Op } from '../../src/kernel/ops.js';
import { emptyStore, type NetworkRecord, type StoreData } from '../../src/store/model.js';
import { expectGolden } from '../helpers/golden.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'engine');

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'plumb-dry-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A store as it is after first use, plus `extra` networks: no default bridge to make, so the transcript is the operation's own. */
function seedStore(extra: NetworkRecord[] = []): void {
  const data: StoreData = emptyStore();
  const base = { scope: 'local' as const, created: '2026-01-01T00:00:00.000Z', internal: false, attachable: false, labels: {}, options: {}, allocated: {} };
  data.networks.h = { ...base, id: 'h', name: 'host', driver: 'host', builtin: true };
  data.networks.n = { ...base, id: 'n', name: 'none', driver: 'null', builtin: true };
  data.networks.b = {
    ...base,
    id: 'b',
    name: 'bridge',
    driver: 'bridge',
    builtin: true,
    ipam: { subnet: '172.17.0.0/16', gateway: '172.17.0.1', aux: {}, userSubnet: false, userGateway: false },
    bridge: 'plumb0',
    icc: true,
    masquerade: true,
    hostBindingIpv4: '0.0.0.0',
  };
  for (const n of extra) data.networks[n.id] = n;
  mkdirSync(join(root, 'lib'), { recursive: true });
  writeFileSync(join(root, 'lib', 'store.json'), JSON.stringify(data));
  // The host as it was before plumb: already taken, so a dry run does not need to read it.
  writeFileSync(join(root, 'lib', 'host-snapshot.json'), '{}');
}

/**
 * The transcript, with what depends on the machine running the test taken out:
 * the temporary root's path, the host-wide settings (ip_forward,
 * bridge-nf-call-iptables, and the FORWARD policy that goes with turning
 * forwarding on), which a dry run reads from the host it runs on, and the
 * search domains a container's resolv.conf copies from the host's.
 */
function transcript(ops: Op[]): string {
  const own = ops
    .filter((op) => !(op.kind === 'sysctl' && op.ns === null && /^net\.(ipv4\.ip_forward|bridge\.)/.test(op.key)))
    .map((op) => (op.kind === 'iptables' ? { ...op, rules: op.rules.replace(/^\*filter\n:FORWARD DROP \[0:0\]\nCOMMIT\n/, '') } : op))
    .map((op) => (op.kind === 'file.write' && op.path.endsWith('/resolv.conf') ? { ...op, content: op.content.replace(/^search .*\n/m, '') } : op));
  return renderScript(own).split(root).join('$ROOT');
}

function dryContext(): { ctx: Context; ops: Op[]; fw: RecordingFirewall<{ name: string | null }> } {
  const ops: Op[] = [];
  const fw = new RecordingFirewall<{ name: string | null }>();
  let n = 0;
  const ctx = new Context({ root, dryRun: true, sinks: [{ record: (op) => ops.push(op) }], firewall: fw, random: (len) => new Uint8Array(len).fill(0x11 * (++n % 15) + 0x0a) });
  return { ctx, ops, fw };
}

describe('engine operations in dry-run mode', () => {
  it('network create: the bridge, its address, route_localnet and the firewall batch, and nothing stored', async () => {
    seedStore();
    const { ctx, ops } = dryContext();
    try {
      const net = await createNetwork(ctx, {
        name: 'golden',
        driver: 'bridge',
        subnet: '10.250.0.0/24',
        aux: {},
        internal: false,
        attachable: false,
        labels: {},
        options: { 'com.docker.network.bridge.name': 'br-golden' },
      });
      expect(net).toMatchObject({ name: 'golden', driver: 'bridge', bridge: 'br-golden', ipam: { subnet: '10.250.0.0/24', gateway: '10.250.0.1' } });
      expect(Object.values(ctx.store.read().networks).map((n) => n.name)).not.toContain('golden');
    } finally {
      ctx.close();
    }
    expectGolden(join(GOLDEN, 'network-create.sh'), transcript(ops), ['plumb --dry-run network create --subnet 10.250.0.0/24 -o com.docker.network.bridge.name=br-golden golden']);
  });

  it('run on a user-defined network: sandbox, veth, address, route, /etc files, firewall', async () => {
    seedStore([
      {
        id: 'g'.repeat(64),
        name: 'golden',
        driver: 'bridge',
        scope: 'local',
        created: '2026-01-01T00:00:00.000Z',
        internal: false,
        attachable: false,
        builtin: false,
        labels: {},
        options: {},
        ipam: { subnet: '10.250.0.0/24', gateway: '10.250.0.1', aux: {}, userSubnet: true, userGateway: false },
        bridge: 'br-golden',
        icc: true,
        masquerade: true,
        hostBindingIpv4: '0.0.0.0',
        allocated: {},
      },
    ]);
    const { ctx, ops } = dryContext();
    try {
      await createAndStart(ctx, {
        name: 'web',
        image: 'nginx',
        command: [],
        network: 'golden',
        autoRemove: false,
        aliases: [],
        publish: [],
        expose: [],
        links: [],
        env: {},
        dns: [],
        dnsSearch: [],
        dnsOptions: [],
        extraHosts: [],
        randomName: () => 'web',
      } as Parameters<typeof createAndStart>[1]);
    } finally {
      ctx.close();
    }
    expectGolden(join(GOLDEN, 'run-user-network.sh'), transcript(ops), [
      'plumb --dry-run run -d --name web --network golden nginx',
    ]);
  });
});
