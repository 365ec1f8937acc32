// Names on overlay networks, for the embedded DNS: every endpoint of every
// overlay network, on whichever host it lives, as (name, aliases, ip,
// network). Docker's resolver answers a container's query with the endpoints
// of the networks that container is on; the resolver keeps that rule, this
// module only says who is where.
//
// overlayNames() is a one-shot read; OverlayNameWatch keeps a copy current
// from an etcd watch, for a resolver that lives long and answers often.
import { clusterConfig } from './config.js';
import type { ClusterWatch } from './etcd-watch.js';
import { changesNames, type ClusterSnapshot } from './records.js';

export interface OverlayName {
  /** The container's name. */
  name: string;
  /** Its --network-alias names on this network. */
  aliases: string[];
  ip: string;
  /** Network name and id. */
  network: string;
  networkId: string;
  containerId: string;
  /** The name of the host it runs on (for people: hostnames repeat). */
  node: string;
  /** That host's node ID (absent for endpoints written before node IDs). */
  nodeId?: string;
}

export function namesFromSnapshot(s: ClusterSnapshot): OverlayName[] {
  const nets = new Map(s.networks.map((n) => [n.id, n.name]));
  return s.endpoints
    .filter((e) => nets.has(e.networkId))
    .map((e) => ({
      name: e.containerName,
      aliases: e.aliases,
      ip: e.ip,
      network: nets.get(e.networkId)!,
      networkId: e.networkId,
      containerId: e.containerId,
      node: e.node,
      ...(e.nodeId ? { nodeId: e.nodeId } : {}),
    }));
}

/** Every overlay endpoint, or [] when this host has no cluster store. */
export async function overlayNames(env: NodeJS.ProcessEnv = process.env): Promise<OverlayName[]> {
  const cfg = clusterConfig(env);
  if (!cfg) return [];
  const { ClusterStore } = await import('./etcd.js');
  const store = await ClusterStore.connect(cfg, { timeoutMs: 2000 });
  try {
    return namesFromSnapshot(await store.snapshot());
  } finally {
    store.close();
  }
}

/**
 * A live copy of overlayNames(), refreshed on every change in the cluster
 * store. Refreshes may overlap (a burst of changes); a snapshot older than the
 * one already held is dropped, so a late reply never brings a removed
 * container back.
 */
export class OverlayNameWatch {
  private names: OverlayName[] = [];
  private revision = -1n;
  private changes = 0;
  private closeFn?: () => void;
  /**
   * This host's node ID, read when asked: the ID is made by the first overlay
   * join, which may come after the resolver started (set by the resolver).
   */
  localNodeId?: () => string | undefined;

  get nodeId(): string | undefined {
    return this.localNodeId?.();
  }

  /** Names as last read (empty until the first read, or without a cluster store). */
  current(): readonly OverlayName[] {
    return this.names;
  }

  /** Bumped whenever current() changes: a cheap way for readers to see they must rebuild. */
  version(): number {
    return this.changes;
  }

  /** Takes a snapshot unless a newer one is already held. */
  accept(s: ClusterSnapshot): void {
    const rev = BigInt(s.revision);
    if (rev < this.revision) return;
    this.revision = rev;
    const next = namesFromSnapshot(s);
    if (JSON.stringify(next) === JSON.stringify(this.names)) return;
    this.names = next;
    this.changes++;
  }

  /** Names a container on `networkIds` may resolve `query` to (name, name.network, alias, or 12+ hex of the id; case-insensitive). */
  lookup(query: string, networkIds: readonly string[]): OverlayName[] {
    const q = query.toLowerCase().replace(/\.$/, '');
    return this.names.filter(
      (n) =>
        networkIds.includes(n.networkId) &&
        (n.name.toLowerCase() === q || `${n.name}.${n.network}`.toLowerCase() === q || n.aliases.some((a) => a.toLowerCase() === q) || (q.length >= 12 && n.containerId.startsWith(q))),
    );
  }

  /**
   * Reads once, then watches. Resolves after the first read (which gives up
   * after the client's deadline when etcd is away), before the watch is up:
   * the watch needs the etcd3 gRPC client, ~170 ms of CPU to load, and its
   * "connected" event reads everything again, so a change made in between is
   * not missed. A no-op without a cluster store.
   */
  async start(env: NodeJS.ProcessEnv = process.env, log?: (line: string) => void): Promise<this> {
    const cfg = clusterConfig(env);
    if (!cfg) return this;
    const { ClusterStore } = await import('./etcd.js');
    const store = await ClusterStore.connect(cfg, { timeoutMs: 2000 });
    let lastError = '';
    const refresh = () =>
      store.snapshot().then(
        (s) => {
          lastError = '';
          this.accept(s);
        },
        (err: Error) => {
          // Keep the last copy while etcd is away; say so once per outage.
          if (err.message !== lastError) log?.(`overlay names: ${err.message}; answering from the last copy`);
          lastError = err.message;
        },
      );
    let stopped = false;
    let watching: Promise<ClusterWatch | undefined> = Promise.resolve(undefined);
    this.closeFn = () => {
      stopped = true;
      // The watch may still be starting: it is closed once it is up.
      void watching.then((w) => w?.close()).finally(() => store.close());
    };
    await refresh();
    if (!stopped) {
      // After the first read, and after whatever the caller does with it (a
      // macrotask later), so loading etcd3 holds up neither.
      watching = new Promise((resolve) => setImmediate(resolve))
        .then(() => import('./etcd-watch.js'))
        .then(({ watchCluster }) =>
          watchCluster(
            cfg,
            (change) => changesNames(change, cfg.prefix) && void refresh(),
            (state) => state === 'connected' && void refresh(),
          ),
        )
        .catch((err: Error) => {
          log?.(`overlay names: cannot watch the cluster store (${err.message}); names stay as first read`);
          return undefined;
        });
    }
    return this;
  }

  stop(): void {
    this.closeFn?.();
    this.closeFn = undefined;
  }
}
