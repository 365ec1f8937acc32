// The firewall is derived, never edited rule by rule: every operation renders
// the whole ruleset of plumb's own chains from the store and applies it in one
// iptables-restore, together with any jump from a built-in chain that is missing.
// That makes each apply idempotent, and repairs rules a firewall reload wiped.
import {
  BASE_OWNER,
  buildRules,
  formatArgs,
  JUMPS,
  missingJumps,
  renderRuleLine,
  renderRuleset,
  specWithComment,
  type FirewallState,
} from '../firewall/index.js';
import { applyIptables, saveIptables } from '../kernel/iptables.js';
import type { StoreData } from '../store/model.js';
import type { Context } from './context.js';
import { firewallLinks } from './links.js';
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
  const links: FirewallState['links'] = firewallLinks(data);
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

/**
 * The restore text with a `# why` line above every rule and jump.
 * iptables-restore skips comment lines, so the text applied is the text
 * --explain shows and a replayed script runs: a short lesson, rule by rule.
 */
export function annotateRules(text: string, state: FirewallState): string {
  const why = new Map<string, string>();
  for (const r of buildRules(state)) why.set(renderRuleLine(r), r.why);
  const jumps = JUMPS.map((j) => ({ tail: ` ${formatArgs(specWithComment(j.spec, BASE_OWNER))}`, chain: ` ${j.chain} `, why: j.why }));
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let reason = why.get(line);
    if (reason === undefined && /^-[AI] /.test(line)) {
      reason = jumps.find((j) => line.endsWith(j.tail) && line.includes(j.chain))?.why;
    }
    if (reason !== undefined) out.push(`# ${reason.replace(/[\r\n]+/g, ' ')}`);
    out.push(line);
  }
  return out.join('\n');
}

/** Renders and applies the full ruleset (plus missing jumps, plus the FORWARD policy when plumb turned forwarding on). */
export async function syncFirewall(ctx: Context, data: StoreData, tx: Transaction, why: string): Promise<void> {
  await tx.step('firewall', async () => {
    const current = ctx.dryRun ? '' : await saveIptables(ctx.hostNs());
    const state = firewallState(data);
    let text = renderRuleset(state);
    const jumps = missingJumps(current);
    if (data.forwardPolicyBefore === 'pending') {
      data.forwardPolicyBefore = /^:FORWARD (\w+)/m.exec(current)?.[1] ?? 'ACCEPT';
      text = `*filter\n:FORWARD DROP [0:0]\nCOMMIT\n` + text;
    }
    if (jumps) text += jumps;
    await applyIptables(ctx.journal, ctx.hostNs(), annotateRules(text, state), why);
  });
}
