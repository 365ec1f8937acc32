// Rule objects -> iptables-restore text. Output is written the way
// iptables-save prints it (same quoting, same chain order), so what plumb
// applies and what a learner later reads back look the same.

import { MANAGED_CHAINS } from './chains.js';
import { buildRules, rulesFor } from './rules.js';
import type { FirewallState, OwnerRef, Rule, Table } from './types.js';

/** Table order of the rendered text. */
export const TABLES: readonly Table[] = ['filter', 'nat', 'raw'];

const BARE = /^[A-Za-z0-9_-]+$/;

/** libxtables' quoting for saved strings (comments): bare when safe, else "..." with \ before " \ and '. */
export function quoteString(value: string): string {
  if (BARE.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** Other arguments are printed bare by iptables-save; quote only what the restore parser would split. */
export function quoteArg(value: string): string {
  return value === '' || /[\s"'\\]/.test(value) ? quoteString(value) : value;
}

/** The kernel keeps at most 255 bytes of comment; newlines would break the restore text. */
export function commentText(owner: string): string {
  let text = `plumb: ${owner}`.replace(/[\r\n]+/g, ' ');
  while (Buffer.byteLength(text) > 255) text = text.slice(0, -1);
  return text;
}

/** Spec tokens with the owner comment placed just before the target, where iptables-save prints it. */
export function specWithComment(spec: readonly string[], owner: string): string[] {
  const j = spec.lastIndexOf('-j');
  const at = j < 0 ? spec.length : j;
  return [...spec.slice(0, at), '-m', 'comment', '--comment', commentText(owner), ...spec.slice(at)];
}

export function formatArgs(args: readonly string[]): string {
  return args.map((a, i) => (args[i - 1] === '--comment' ? quoteString(a) : quoteArg(a))).join(' ');
}

/** "-A CHAIN ..." exactly as it appears in the restore text. */
export function renderRuleLine(rule: Rule): string {
  return `-A ${rule.chain} ${formatArgs(specWithComment(rule.spec, rule.owner))}`;
}

/** The same rule as a stand-alone command, for inspect output and explanations. */
export function renderRuleCommand(rule: Rule): string {
  return `iptables -t ${rule.table} ${renderRuleLine(rule)}`;
}

/**
 * Full restore text for plumb's managed chains. Meant for
 * `iptables-restore --noflush`: each `:CHAIN - [0:0]` line creates the chain or,
 * when it exists, flushes it, so applying the text twice gives the same result.
 */
export function renderRuleset(state: FirewallState): string {
  const rules = buildRules(state);
  let text = '';
  for (const table of TABLES) {
    // iptables-save lists user chains sorted by name, rules grouped by chain in that order.
    const chains = [...MANAGED_CHAINS[table]].sort();
    text += `*${table}\n`;
    for (const chain of chains) text += `:${chain} - [0:0]\n`;
    for (const chain of chains) {
      for (const rule of rules) if (rule.table === table && rule.chain === chain) text += `${renderRuleLine(rule)}\n`;
    }
    text += 'COMMIT\n';
  }
  return text;
}

function asRef(owner: OwnerRef | string): OwnerRef {
  if (typeof owner !== 'string') return owner;
  const m = /^(network|container)\s+(.+)$/.exec(owner);
  return m ? { kind: m[1] as 'network' | 'container', name: m[2]! } : { kind: 'container', name: owner };
}

/**
 * A network's or container's rules as replayable commands
 * (`iptables -t nat -A PLUMB ...`). A string owner is "network NAME",
 * "container NAME" or a bare container name.
 */
export function rulesOwnedBy(state: FirewallState, owner: OwnerRef | string): string[] {
  return rulesFor(state, asRef(owner)).map(renderRuleCommand);
}

/** Same, with each rule's reason, for `--explain` style output. */
export function explainRulesOwnedBy(state: FirewallState, owner: OwnerRef | string): Array<{ command: string; why: string }> {
  return rulesFor(state, asRef(owner)).map((r) => ({ command: renderRuleCommand(r), why: r.why }));
}
