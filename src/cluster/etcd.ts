// The cluster store on etcd (v3 API, through the etcd3 client). The client and
// its gRPC stack are imported only here and only when a cluster command runs,
// so single-host plumb never loads them.
//
// Every change that must not race with another host is one etcd transaction
// whose compares say "nobody took this yet"; on a lost race it is re-planned
// from fresh data and tried again.
import type { Etcd3, Watcher } from 'etcd3';
import type { ClusterConfig } from './config.js';
import { keys, type ClusterEndpoint, type ClusterNetwork, type ClusterSnapshot } from './records.js';

export class ClusterStoreError extends Error {}

/** A plan that found the answer already taken: not retried, shown as is. */
export class ClusterConflict extends Error {}

const ATTEMPTS = 8;

/** etcd3's default fault handling opens a circuit for 5 s after 3 failures; a
 * host agent must notice etcd is back at once, so every call simply runs. */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => Promise<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
};

/** Watch reconnects every 300 ms instead of backing off to 30 s. */
const steadyBackoff: { duration: number; next(): unknown } = { duration: 300, next: () => steadyBackoff };

export interface ConnectOptions {
  /** Deadline of each unary call (ms). */
  timeoutMs?: number;
}

export class ClusterStore {
  readonly k: ReturnType<typeof keys>;

  private constructor(
    readonly config: ClusterConfig,
    private readonly client: Etcd3,
  ) {
    this.k = keys(config.prefix);
  }

  static async connect(config: ClusterConfig, opts: ConnectOptions = {}): Promise<ClusterStore> {
    const { Etcd3 } = await import('etcd3');
    const timeout = opts.timeoutMs ?? 3000;
    const client = new Etcd3({
      hosts: config.endpoints.map((e) => `http://${e}`),
      dialTimeout: timeout,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: {
        host: () => passThrough as never,
        global: passThrough as never,
        watchBackoff: steadyBackoff as never,
      },
    });
    return new ClusterStore(config, client);
  }

  close(): void {
    this.client.close();
  }

  /** Runs an etcd call, turning transport failures into one clear line. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ClusterConflict || err instanceof ClusterStoreError) throw err;
      const msg = (err as Error).message?.split('\n')[0] ?? String(err);
      throw new ClusterStoreError(`cluster store ${this.config.store}: ${what} failed: ${msg}`);
    }
  }

  private async json<T>(prefix: string): Promise<{ items: T[]; revision: string }> {
    const res = await this.client.getAll().prefix(prefix).exec();
    return { items: res.kvs.map((kv) => JSON.parse(kv.value.toString()) as T), revision: res.header.revision };
  }

  async networks(): Promise<ClusterNetwork[]> {
    return this.call('listing networks', async () => (await this.json<ClusterNetwork>(this.k.networks)).items);
  }

  async endpoints(networkId?: string): Promise<ClusterEndpoint[]> {
    return this.call('listing endpoints', async () => (await this.json<ClusterEndpoint>(networkId ? this.k.endpointsOf(networkId) : this.k.endpoints)).items);
  }

  /** Networks and endpoints as of one revision. */
  async snapshot(): Promise<ClusterSnapshot> {
    return this.call('reading the overlay state', async () => {
      const res = await this.client.getAll().prefix(this.k.root).exec();
      const networks: ClusterNetwork[] = [];
      const endpoints: ClusterEndpoint[] = [];
      for (const kv of res.kvs) {
        const key = kv.key.toString();
        if (key.startsWith(this.k.networks)) networks.push(JSON.parse(kv.value.toString()) as ClusterNetwork);
        else if (key.startsWith(this.k.endpoints)) endpoints.push(JSON.parse(kv.value.toString()) as ClusterEndpoint);
      }
      return { revision: res.header.revision, networks, endpoints };
    });
  }

  /**
   * Stores a new network. `plan` sees the networks that exist and returns the
   * new one (it may throw to refuse); the transaction succeeds only if its
   * name, VNI and subnet are still free everywhere.
   */
  async createNetwork(plan: (existing: ClusterNetwork[]) => ClusterNetwork): Promise<ClusterNetwork> {
    return this.call('creating the network', async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const existing = (await this.json<ClusterNetwork>(this.k.networks)).items;
        const net = plan(existing);
        const r = await this.client
          .if(this.k.name(net.name), 'Create', '==', 0)
          .and(this.k.vni(net.vni), 'Create', '==', 0)
          .and(this.k.subnet(net.ipam.subnet), 'Create', '==', 0)
          .then(
            this.client.put(this.k.network(net.id)).value(JSON.stringify(net)),
            this.client.put(this.k.name(net.name)).value(net.id),
            this.client.put(this.k.vni(net.vni)).value(net.id),
            this.client.put(this.k.subnet(net.ipam.subnet)).value(net.id),
            this.client.put(this.k.joins(net.id)).value('0'),
          )
          .commit();
        if (r.succeeded) return net;
      }
      throw new ClusterStoreError(`another host kept changing the overlay networks; try again`);
    });
  }

  /** Removes a network that has no endpoint on any host (checked in the same transaction). */
  async removeNetwork(net: ClusterNetwork, inUse: (users: ClusterEndpoint[]) => Error): Promise<void> {
    return this.call('removing the network', async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const joins = await this.client.get(this.k.joins(net.id)).exec();
        const users = (await this.json<ClusterEndpoint>(this.k.endpointsOf(net.id))).items;
        if (users.length) throw inUse(users);
        const joinsRev = joins.kvs[0]?.mod_revision ?? '0';
        const r = await this.client
          .if(this.k.joins(net.id), 'Mod', '==', joinsRev)
          .then(
            this.client.delete().key(this.k.network(net.id)),
            this.client.delete().key(this.k.name(net.name)),
            this.client.delete().key(this.k.vni(net.vni)),
            this.client.delete().key(this.k.subnet(net.ipam.subnet)),
            this.client.delete().key(this.k.joins(net.id)),
            this.client.delete().prefix(this.k.ipamOf(net.id)),
            this.client.delete().prefix(this.k.endpointsOf(net.id)),
          )
          .commit();
        if (r.succeeded) return;
      }
      throw new ClusterStoreError('containers kept joining the network while it was being removed; try again');
    });
  }

  /**
   * Registers an endpoint with an address no other host holds. `plan` gets the
   * addresses taken on the network and returns the endpoint with the address
   * to claim (it throws when none is left, or when a requested one is taken).
   */
  async addEndpoint(networkId: string, plan: (taken: string[]) => ClusterEndpoint): Promise<ClusterEndpoint> {
    return this.call('registering the endpoint', async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const net = await this.client.get(this.k.network(networkId)).exec();
        if (!net.kvs.length) throw new ClusterConflict(`network ${networkId} not found in the cluster store`);
        const taken = Object.keys(await this.client.getAll().prefix(this.k.ipamOf(networkId)).strings()).map((k) => k.slice(this.k.ipamOf(networkId).length));
        const ep = plan(taken);
        const r = await this.client
          .if(this.k.ip(networkId, ep.ip), 'Create', '==', 0)
          .and(this.k.network(networkId), 'Version', '>', 0)
          .then(
            this.client.put(this.k.ip(networkId, ep.ip)).value(ep.id),
            this.client.put(this.k.endpoint(networkId, ep.id)).value(JSON.stringify(ep)),
            this.client.put(this.k.joins(networkId)).value(ep.id),
          )
          .commit();
        if (r.succeeded) return ep;
      }
      throw new ClusterStoreError('other hosts kept taking addresses on the network; try again');
    });
  }

  /** Withdraws an endpoint and frees its address (only if the address is still this endpoint's). */
  async removeEndpoint(ep: Pick<ClusterEndpoint, 'networkId' | 'id' | 'ip'>): Promise<void> {
    return this.call('withdrawing the endpoint', async () => {
      await this.client
        .if(this.k.ip(ep.networkId, ep.ip), 'Value', '==', ep.id)
        .then(this.client.delete().key(this.k.ip(ep.networkId, ep.ip)), this.client.delete().key(this.k.endpoint(ep.networkId, ep.id)))
        .else(this.client.delete().key(this.k.endpoint(ep.networkId, ep.id)))
        .commit();
    });
  }

  /**
   * Calls `onChange` after every change below the prefix, and `onState` when
   * the watch connects or loses etcd (it reconnects by itself and resumes
   * from the last revision it saw).
   */
  async watch(onChange: () => void, onState: (state: 'connected' | 'disconnected', detail?: string) => void): Promise<Watcher> {
    const w = this.client.watch().prefix(this.k.root).watcher();
    w.on('put', () => onChange());
    w.on('delete', () => onChange());
    w.on('connected', () => onState('connected'));
    w.on('disconnected', (e) => onState('disconnected', e?.message));
    w.on('error', (e) => onState('disconnected', e?.message));
    return w;
  }
}
