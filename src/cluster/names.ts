// Names on overlay networks, for the embedded DNS: every endpoint of every
// overlay network, on whichever host it lives, as (name, aliases, ip,
// network). Docker's resolver answers a container's query with the endpoints
// of the networks that container is on; the resolver keeps that rule, this
// module only says who is where.
//
// overlayNames() is a one-shot read; OverlayNameWatch keeps a copy current
// from an etcd watch, for a resolver that lives long and answers often.
import { clusterConfig } from './config.js';
import type { ClusterSnapshot } from './records.js';

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
  /** The host it runs on. */
  node: string;
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

/** A live copy of overlayNames(), refreshed on every change in the cluster store. */
export class OverlayNameWatch {
  private names: OverlayName[] = [];
  private closeFn?: () => void;

  /** Names as last read (empty until the first read, or without a cluster store). */
  current(): readonly OverlayName[] {
    return this.names;
  }

  /** Names a container on `networkIds` may resolve `query` to (name or alias, case-insensitive). */
  lookup(query: string, networkIds: readonly string[]): OverlayName[] {
    const q = query.toLowerCase().replace(/\.$/, '');
    return this.names.filter(
      (n) =>
        networkIds.includes(n.networkId) &&
        (n.name.toLowerCase() === q || `${n.name}.${n.network}`.toLowerCase() === q || n.aliases.some((a) => a.toLowerCase() === q) || (q.length >= 12 && n.containerId.startsWith(q))),
    );
  }

  async start(env: NodeJS.ProcessEnv = process.env): Promise<this> {
    const cfg = clusterConfig(env);
    if (!cfg) return this;
    const { ClusterStore } = await import('./etcd.js');
    const store = await ClusterStore.connect(cfg, { timeoutMs: 2000 });
    const refresh = () =>
      store.snapshot().then(
        (s) => {
          this.names = namesFromSnapshot(s);
        },
        () => undefined, // keep the last copy while etcd is away
      );
    const w = await store.watch(() => void refresh(), (state) => state === 'connected' && void refresh());
    await refresh();
    this.closeFn = () => {
      void w.cancel().finally(() => store.close());
    };
    return this;
  }

  stop(): void {
    this.closeFn?.();
    this.closeFn = undefined;
  }
}
