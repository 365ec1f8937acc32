// The firewall backend an operation uses: iptables through the kernel's
// runner, or one given by the caller (tests pass a RecordingFirewall). Either
// way every batch is a recorded step of the journal, so --explain and
// --dry-run show the same iptables-restore text whatever runs it.
import { RecordingFirewall, type FirewallBackend } from '../../firewall/backend.js';
import { applyIptables, saveIptables } from '../../kernel/iptables.js';
import type { Netns } from '../../kernel/netns.js';
import type { Journal } from '../../kernel/ops.js';

export type HostFirewall = FirewallBackend<Netns>;

export function firewallBackend(journal: Journal, given?: HostFirewall): HostFirewall {
  if (!given) {
    return { name: 'iptables', save: (ns, table) => saveIptables(ns, table), apply: (ns, text, why) => applyIptables(journal, ns, text, why) };
  }
  return {
    name: given.name,
    save: (ns, table) => given.save(ns, table),
    apply: (ns, text, why) => journal.run({ kind: 'iptables', ns: ns.name, rules: text, why }, () => given.apply(ns, text, why)),
  };
}

export { RecordingFirewall };
