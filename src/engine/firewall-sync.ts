// The firewall is derived, never edited rule by rule: every operation renders
// the whole ruleset of plumb's own chains from the store and applies it in one
// iptables-restore, together with any jump from a built-in chain that is missing.
// That makes each apply idempotent, and repairs rules a firewall reload wiped.
import { renderRuleset, missingJumps, type FirewallState } from '../firewall/index.js';
import { applyIptables, saveIptables } from '../kernel/iptables.js';
import type { StoreData } from '../store/model.js';
import type { Context } from './context.js';
import type { Transaction } from './transaction.js';

export function firewallState(data: StoreData): FirewallState {
  const networks = Object.values(data.networks)
    .filter((n) => n.driver === 'bridge' && n.bridge && n.ipam)
    .sort((a, b) => a.created.localeCompare(b.created))
    .map((n) => ({
      id: n.id,
      name: n.name,
      bridge: n.bridge!,
      subnet: n.ipam!.subnet,
      icc: n.icc ?? true,
      masquerade: n.masquerade ?? true,
      internal: n.internal,
      hostBindingIpv4: n.hostBindingIpv4 ?? '0.0.0.0',
    }));
  const ports: FirewallState['ports'] = [];
  const links: FirewallState['links'] = [];
  for (const c of Object.values(data.containers)) {
    if (c.state !== 'running') continue;
    const primary = c.networks[0] && c.endpoints[c.networks[0].networkId];
    const net = primary && data.networks[primary.networkId];
    if (primary && net?.bridge) {
      for (const p of c.ports) {
        ports.push({
          container: c.name,
          bridge: net.bridge,
          proto: p.proto,
          hostIp: p.hostIp,
          hostPort: p.hostPort,
          containerIp: primary.ip,
          containerPort: p.containerPort,
        });
      }
    }
  }
  return { networks, ports, links };
}

/** Renders and applies the full ruleset (plus missing jumps, plus the FORWARD policy when plumb turned forwarding on). */
export async function syncFirewall(ctx: Context, data: StoreData, tx: Transaction, why: string): Promise<void> {
  await tx.step('firewall', async () => {
    const current = ctx.dryRun ? '' : await saveIptables(ctx.hostNs());
    let text = renderRuleset(firewallState(data));
    const jumps = missingJumps(current);
    if (data.forwardPolicyBefore === 'pending') {
      data.forwardPolicyBefore = /^:FORWARD (\w+)/m.exec(current)?.[1] ?? 'ACCEPT';
      text = `*filter\n:FORWARD DROP [0:0]\nCOMMIT\n` + text;
    }
    if (jumps) text += jumps;
    await applyIptables(ctx.journal, ctx.hostNs(), text, why);
  });
}
