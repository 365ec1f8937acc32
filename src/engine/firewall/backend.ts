// The firewall backend an operation uses: iptables through the kernel's
// runner, or one given by the caller (tests pass a RecordingFirewall). Either
// way every batch is a recorded step of the journal, so --explain and
// --dry-run show the same iptables-restore text whatever runs it.
import { RecordingFirewall, type FirewallBackend, type FirewallTable } from '../../firewall/backend.js';
import { applyIptables, saveIptables } from '../../kernel/iptables.js';
import { withinNetns, type Netns } from '../../kernel/netns.js';
import { readNftRules, type NftRule } from '../../kernel/nftables-rules.js';
import type { Journal } from '../../kernel/ops.js';
import { RulesMemo } from './rules-memo.js';

export interface HostFirewall extends FirewallBackend<Netns> {
  /**
   * The rules in `ns` for an update to be computed against: what `save(ns)`
   * would print, taken from the memo of plumb's last apply when the kernel
   * says nothing changed since (rules-memo.ts). `save` always asks the kernel:
   * checks, snapshots and repairs use it.
   */
  current(ns: Netns): Promise<string>;
  /**
   * The IPv4 nf_tables rules of `table` in `ns`, read without a process, for
   * checks that can vouch for a rule from its expressions (and ask `save`
   * otherwise). Undefined when the kernel will not say, or the backend is not
   * the kernel's.
   */
  nftRules(ns: Netns, table: FirewallTable): NftRule[] | undefined;
}

/** `runDir`: where the memo of the host's rules is kept (none without it). */
export function firewallBackend(journal: Journal, given?: FirewallBackend<Netns>, runDir?: string): HostFirewall {
  if (!given) {
    const memo = runDir && !journal.dryRun ? new RulesMemo(runDir) : undefined;
    const save = (ns: Netns, table?: FirewallTable) => saveIptables(ns, table);
    const apply = (ns: Netns, text: string, why?: string, meanwhile?: () => Promise<void>) => applyIptables(journal, ns, text, why, meanwhile);
    return {
      name: 'iptables',
      save,
      current: (ns) => (memo && ns.path === null ? memo.rules(() => save(ns)) : save(ns)),
      apply: (ns, text, why, meanwhile) => (memo && ns.path === null ? memo.applying(text, () => apply(ns, text, why, meanwhile)) : apply(ns, text, why, meanwhile)),
      nftRules: (ns, table) => withinNetns(ns, () => readNftRules(table)),
    };
  }
  return {
    name: given.name,
    save: (ns, table) => given.save(ns, table),
    current: (ns) => given.save(ns),
    nftRules: () => undefined,
    apply: async (ns, text, why, meanwhile) => {
      await journal.run({ kind: 'iptables', ns: ns.name, rules: text, why }, () => given.apply(ns, text, why));
      await meanwhile?.();
    },
  };
}

export { RecordingFirewall };
