// Rule text outside plumb's own chains: the FORWARD policy and the RETURN rule
// of the learner's chain. Pure, like the rest of firewall/; golden files in
// test/unit/golden/firewall/policy-*.rules.
import { BASE_OWNER, CHAIN } from './chains.js';
import { commentText, formatArgs } from './render.js';

/**
 * The FORWARD policy line. Owner: the host setup of the first network that
 * routes through the host. Docker sets DROP when it had to turn ip_forward on,
 * so turning forwarding on does not make the host a router for everyone;
 * system reset (and gc when no network needs it) puts the earlier policy back.
 * A policy carries no comment in iptables; the store keeps the one before.
 */
export function forwardPolicyText(policy: string): string {
  return `*filter\n:FORWARD ${policy} [0:0]\nCOMMIT\n`;
}

/** The FORWARD policy in an iptables-save text (undefined when the filter table is absent). */
export function forwardPolicyOf(saveText: string): string | undefined {
  return /^:FORWARD (\w+)/m.exec(saveText)?.[1];
}

/**
 * The RETURN rule that ends PLUMB-USER. Owner: the base rules (comment
 * "plumb: base"). PLUMB-USER is the learner's chain, never flushed by plumb,
 * so when a flush emptied it gc adds only this rule back.
 */
export function userChainReturnText(): string {
  const rule = formatArgs(['-m', 'comment', '--comment', commentText(BASE_OWNER), '-j', 'RETURN']);
  return `*filter\n-A ${CHAIN.user} ${rule}\nCOMMIT\n`;
}
