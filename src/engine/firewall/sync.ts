// The firewall is derived from the store, never edited by hand: every
// operation renders the whole ruleset of plumb's own chains and applies what
// differs from the kernel in one iptables-restore, together with any jump from
// a built-in chain that is missing. That makes each apply idempotent, and
// repairs rules a firewall reload wiped.
import { containersWhere } from '../../store/store.js';
import { compareCodeUnits } from '../../store/order.js';
import { buildRules, forwardPolicyOf, forwardPolicyText, updateText, type FirewallState } from '../../firewall/index.js';
import { simulateRestore } from '../../firewall/simulate.js';
import { bridgeNetwork } from '../../drivers/records.js';
import { traitsOf } from '../../drivers/traits.js';
import type { StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { firewallLinks } from '../containers/links.js';
import type { Transaction } from '../core/transaction.js';

export function firewallState(data: StoreData): FirewallState {
  const networks = Object.values(data.networks)
    .flatMap((n) => bridgeNetwork(n) ?? [])
    .filter((n) => traitsOf(n).routesThroughHost && n.ipam)
    .sort((a, b) => compareCodeUnits(a.created, b.created))
    .map((n) => ({
      id: n.id,
      name: n.name,
      bridge: n.bridge,
      subnet: n.ipam!.subnet,
      icc: n.icc ?? true,
      masquerade: n.masquerade ?? true,
      internal: n.internal,
      hostBindingIpv4: n.hostBindingIpv4 ?? '0.0.0.0',
    }));
  const ports: FirewallState['ports'] = [];
  const links: FirewallState['links'] = firewallLinks(data);
  // Only containers with bound ports have rules here (the store indexes them): the others are not read.
  for (const c of containersWhere(data, 'ports')) {
    if (c.state !== 'running') continue;
    const primary = c.networks[0] && c.endpoints[c.networks[0].networkId];
    const net = bridgeNetwork(primary && data.networks[primary.networkId]);
    if (primary && net) {
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

/** In a dry run, the rules as the applies printed so far would have left them (the kernel itself is not changed). */
const simulated = new WeakMap<Context, string>();

/** The kernel's rules; a dry run by a user who may not read them shows the rules built from nothing. */
async function readForDiff(ctx: Context): Promise<string> {
  if (!ctx.dryRun) return ctx.firewall.current(ctx.hostNs());
  const earlier = simulated.get(ctx);
  if (earlier !== undefined) return earlier;
  try {
    return await ctx.firewall.save(ctx.hostNs());
  } catch {
    return '';
  }
}

/**
 * Brings plumb's chains and jumps in line with the store in one
 * iptables-restore (plus the FORWARD policy when plumb turned forwarding on).
 * The kernel's rules are known every time and the restore holds only what
 * differs (firewall/update.ts): publishing ports then only adds rules, which
 * is fast, and whatever a firewall reload wiped is put back. Knowing them
 * costs no process when nothing but plumb changed them since its last apply
 * (the nf_tables generation says so, rules-memo.ts); otherwise an
 * iptables-save reads them (~5-10 ms). Only the read a checkpoint has just
 * made is reused as such (`justRead`).
 * A dry run reads them too, so its script is the diff a real run would apply.
 *
 * `meanwhile` runs while the restore works, once it has its input (or alone
 * when nothing differs): `network rm` deletes the bridge then, so the kernel
 * waits out the grace period a restore that deletes rules ends with and the
 * ones a bridge's removal needs at the same time, not one after the other.
 */
export async function syncFirewall(
  ctx: Context,
  data: StoreData,
  tx: Transaction,
  why: string,
  justRead?: string,
  meanwhile?: () => Promise<void>,
): Promise<void> {
  await tx.step('firewall', async () => {
    // `justRead`: the rules firewallCheckpoint read a moment ago, with no apply in between (one iptables-save fewer).
    // A dry run reads too: its script is the same diff against the kernel that --explain prints.
    const current = justRead ?? (await readForDiff(ctx));
    let text = updateText(buildRules(firewallState(data)), current);
    const policy = forwardPolicyOf(current);
    if (data.forwardPolicyBefore === 'pending') {
      data.forwardPolicyBefore = policy ?? 'ACCEPT';
      text = forwardPolicyText('DROP') + text;
    } else if (data.forwardPolicyBefore && policy && policy !== 'DROP') {
      // Someone set it back (iptables -P FORWARD ACCEPT): with forwarding on, that opens every unpublished port to routed hosts.
      text = forwardPolicyText('DROP') + text;
    }
    if (text) await ctx.firewall.apply(ctx.hostNs(), text, why, meanwhile);
    else await meanwhile?.();
    if (text && ctx.dryRun) simulated.set(ctx, simulateRestore(current, text));
  });
}
