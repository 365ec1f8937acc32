// Where rule text goes: a backend reads a namespace's rules as iptables-save
// text and applies restore text to it. iptables-restore/-save today
// (engine/firewall/backend.ts binds it to the kernel runner), a recording
// stub for tests here, nftables next: the rule model and its text stay the
// same, only the backend changes.

export type FirewallTable = 'filter' | 'nat' | 'mangle' | 'raw';

export interface FirewallBackend<Ns> {
  readonly name: string;
  /** The rules in `ns` as iptables-save prints them (one table, or all). */
  save(ns: Ns, table?: FirewallTable): Promise<string>;
  /**
   * Applies restore text (`*table` ... `COMMIT`) in `ns` as one batch, without flushing what it does not name.
   * `meanwhile` (optional) runs while the batch is applied, once it no longer needs this process; it always runs.
   */
  apply(ns: Ns, text: string, why?: string, meanwhile?: () => Promise<void>): Promise<void>;
}

/**
 * A backend that changes nothing: it records every batch it is given and
 * answers reads with what the test says the kernel has (nothing by default).
 */
export class RecordingFirewall<Ns extends { name: string | null }> implements FirewallBackend<Ns> {
  readonly name = 'recording';
  readonly applied: Array<{ ns: string | null; text: string; why?: string }> = [];

  constructor(private readonly rules: (ns: Ns, table?: FirewallTable) => string = () => '') {}

  async save(ns: Ns, table?: FirewallTable): Promise<string> {
    return this.rules(ns, table);
  }

  async apply(ns: Ns, text: string, why?: string, meanwhile?: () => Promise<void>): Promise<void> {
    this.applied.push({ ns: ns.name, text, why });
    await meanwhile?.();
  }
}
