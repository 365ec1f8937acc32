// What one plumb operation works with: paths, the store, the journal that
// records (and in a dry run, withholds) kernel changes, and netlink handles
// opened once per namespace for the duration of the operation.
import { Journal, type OpSink } from '../../kernel/ops.js';
import { firewallBackend, type HostFirewall } from '../firewall/backend.js';
import type { FirewallBackend } from '../../firewall/backend.js';
import { closeNetns, hostNetns, openNetns, type Netns } from '../../kernel/netns.js';
import { randomBytes } from '../../kernel/random.js';
import { Rtnl } from '../../kernel/rtnl.js';
import type { RandomBytes } from '../../ipam/ids.js';
import { Store } from '../../store/store.js';
import { resolvePaths, type Paths } from '../../store/paths.js';

export interface ContextOptions {
  root?: string;
  dryRun?: boolean;
  sinks?: OpSink[];
  env?: NodeJS.ProcessEnv;
  /** The firewall backend (iptables unless a test gives a recording one). */
  firewall?: FirewallBackend<Netns>;
  /** The source of IDs and MACs (the kernel's getrandom unless a test gives fixed bytes). */
  random?: RandomBytes;
}

export class Context {
  readonly paths: Paths;
  readonly store: Store;
  readonly journal: Journal;
  /** Where IDs and MACs get their randomness (the kernel's getrandom). */
  readonly random: RandomBytes;
  /** Where rule text goes (firewall/backend.ts). */
  readonly firewall: HostFirewall;
  private host?: Rtnl;
  private readonly opened: Array<{ ns: Netns; rtnl?: Rtnl }> = [];

  constructor(opts: ContextOptions = {}) {
    this.paths = resolvePaths(opts.env ?? process.env, opts.root);
    this.store = new Store(this.paths, !!opts.dryRun);
    this.journal = new Journal(!!opts.dryRun);
    for (const sink of opts.sinks ?? []) this.journal.addSink(sink);
    this.firewall = firewallBackend(this.journal, opts.firewall, this.paths.run);
    this.random = opts.random ?? randomBytes;
  }

  get dryRun(): boolean {
    return this.journal.dryRun;
  }

  hostNs(): Netns {
    return hostNetns();
  }

  /** rtnetlink in the namespace plumb runs in (the "host"). */
  hostRtnl(): Rtnl {
    if (!this.host) this.host = Rtnl.open(hostNetns(), this.journal);
    return this.host;
  }

  /** Opens a sandbox namespace file (kept open until close()). */
  openNs(path: string, name: string): Netns {
    const ns = openNetns(path, name);
    this.opened.push({ ns });
    return ns;
  }

  /** Adopts a namespace handle created during this operation so close() releases it. */
  adopt(ns: Netns): Netns {
    if (ns.fd >= 0) this.opened.push({ ns });
    return ns;
  }

  /** rtnetlink inside a sandbox namespace, one socket per namespace per operation. */
  rtnlIn(ns: Netns): Rtnl {
    const entry = this.opened.find((o) => o.ns === ns);
    if (entry?.rtnl) return entry.rtnl;
    const rtnl = Rtnl.open(ns, this.journal);
    if (entry) entry.rtnl = rtnl;
    else this.opened.push({ ns, rtnl });
    return rtnl;
  }

  close(): void {
    this.host?.close();
    this.host = undefined;
    for (const { ns, rtnl } of this.opened.splice(0)) {
      rtnl?.close();
      if (ns.fd >= 0) closeNetns(ns);
    }
  }
}
