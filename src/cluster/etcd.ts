// The cluster store on etcd (v3 API). One-shot reads and writes go through
// etcd's HTTP gateway (etcd-gateway.ts), which keeps the etcd3 gRPC client and
// its start-up cost out of CLI processes; watching is in etcd-watch.ts.
//
// Every change that must not race with another host is one etcd transaction
// whose compares say "nobody took this yet"; on a lost race it is re-planned
// from fresh data and tried again.
import type { ClusterConfig } from './config.js';
import { EtcdGateway } from './etcd-gateway.js';
import { isRegistered, planRegistration, registrationGuard, type RegistrationState } from './identity.js';
import type { Kv, RangeResult, TxnOp } from './kv.js';
import { keys, type ClusterEndpoint, type ClusterNetwork, type ClusterNode, type ClusterSnapshot } from './records.js';

export class ClusterStoreError extends Error {}

/** A plan that found the answer already taken: not retried, shown as is. */
export class ClusterConflict extends Error {}

const ATTEMPTS = 8;

export interface ConnectOptions {
  /** Deadline of each call (ms). */
  timeoutMs?: number;
}

export class ClusterStore {
  readonly k: ReturnType<typeof keys>;

  constructor(
    readonly config: ClusterConfig,
    private readonly kv: Kv,
  ) {
    this.k = keys(config.prefix);
  }

  /** A store on the configured endpoints. Nothing is dialled until the first call. */
  static async connect(config: ClusterConfig, opts: ConnectOptions = {}): Promise<ClusterStore> {
    return new ClusterStore(config, new EtcdGateway(config.endpoints, opts.timeoutMs ?? 3000));
  }

  close(): void {
    this.kv.close();
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
    const res = await this.kv.range(prefix, { prefix: true });
    return { items: res.kvs.map((kv) => JSON.parse(kv.value) as T), revision: res.revision };
  }

  async networks(): Promise<ClusterNetwork[]> {
    return this.call('listing networks', async () => (await this.json<ClusterNetwork>(this.k.networks)).items);
  }

  async endpoints(networkId?: string): Promise<ClusterEndpoint[]> {
    return this.call('listing endpoints', async () => (await this.json<ClusterEndpoint>(networkId ? this.k.endpointsOf(networkId) : this.k.endpoints)).items);
  }

  /** Networks and endpoints as of one revision. */
  async snapshot(): Promise<ClusterSnapshot> {
    return this.call('reading the overlay state', async () => this.snapshotOf(await this.kv.range(this.k.root, { prefix: true })));
  }

  private snapshotOf(everything: RangeResult): ClusterSnapshot {
    const networks: ClusterNetwork[] = [];
    const endpoints: ClusterEndpoint[] = [];
    for (const kv of everything.kvs) {
      if (kv.key.startsWith(this.k.networks)) networks.push(JSON.parse(kv.value) as ClusterNetwork);
      else if (kv.key.startsWith(this.k.endpoints)) endpoints.push(JSON.parse(kv.value) as ClusterEndpoint);
    }
    return { revision: everything.revision, networks, endpoints };
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
        const free = (key: string) => ({ key, target: 'CREATE' as const, result: 'EQUAL' as const, revision: 0 });
        const { succeeded } = await this.kv.txn({
          compare: [free(this.k.name(net.name)), free(this.k.vni(net.vni)), free(this.k.subnet(net.ipam.subnet))],
          success: [
            { put: this.k.network(net.id), value: JSON.stringify(net) },
            { put: this.k.name(net.name), value: net.id },
            { put: this.k.vni(net.vni), value: net.id },
            { put: this.k.subnet(net.ipam.subnet), value: net.id },
            { put: this.k.joins(net.id), value: '0' },
          ],
        });
        if (succeeded) return net;
      }
      throw new ClusterStoreError(`another host kept changing the overlay networks; try again`);
    });
  }

  /** Removes a network that has no endpoint on any host (checked in the same transaction). */
  async removeNetwork(net: ClusterNetwork, inUse: (users: ClusterEndpoint[]) => Error): Promise<void> {
    return this.call('removing the network', async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const joins = await this.kv.range(this.k.joins(net.id));
        const users = (await this.json<ClusterEndpoint>(this.k.endpointsOf(net.id))).items;
        if (users.length) throw inUse(users);
        // Every join bumps this key, so an unchanged revision means nobody joined since `users` was read.
        const joinsRev = joins.kvs[0]?.modRevision ?? '0';
        const { succeeded } = await this.kv.txn({
          compare: [{ key: this.k.joins(net.id), target: 'MOD', result: 'EQUAL', revision: joinsRev }],
          success: [
            { delete: this.k.network(net.id) },
            { delete: this.k.name(net.name) },
            { delete: this.k.vni(net.vni) },
            { delete: this.k.subnet(net.ipam.subnet) },
            { delete: this.k.joins(net.id) },
            { deletePrefix: this.k.ipamOf(net.id) },
            { deletePrefix: this.k.endpointsOf(net.id) },
          ],
        });
        if (succeeded) return;
      }
      throw new ClusterStoreError('containers kept joining the network while it was being removed; try again');
    });
  }

  /** The registration keys of `me` as read in one transaction's ranges (node record, VTEP owner). */
  private registrationOf(me: ClusterNode, byId: RangeResult | undefined, byVtep: RangeResult | undefined): RegistrationState {
    const id = byId?.kvs[0];
    const vtep = byVtep?.kvs[0];
    return {
      byId: id ? { node: JSON.parse(id.value) as ClusterNode, modRevision: id.modRevision } : undefined,
      byVtep: vtep ? { nodeId: vtep.value, modRevision: vtep.modRevision } : undefined,
    };
  }

  /**
   * Records this host (node ID, name, VTEP) unless it is recorded as it is;
   * refuses, with the reason and the fix, an identity that clashes with
   * another host's (see identity.ts). Race-free: the write compares every key
   * it read. `nodeIdFile` is named in the message for a cloned host.
   */
  async registerNode(me: ClusterNode, nodeIdFile: string): Promise<void> {
    return this.call('registering this host', async () => {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const {
          ranges: [byId, byVtep, eps],
        } = await this.kv.txn({
          compare: [],
          success: [{ range: this.k.node(me.id) }, { range: this.k.vtep(me.vtep) }, { range: this.k.endpoints, prefix: true }],
        });
        const state = this.registrationOf(me, byId, byVtep);
        const before = state.byId?.node.vtep;
        if (before && before !== me.vtep) {
          const prev = (await this.kv.range(this.k.vtep(before))).kvs[0];
          state.previousVtep = prev ? { nodeId: prev.value, modRevision: prev.modRevision } : undefined;
        }
        const endpoints = eps!.kvs.map((kv) => JSON.parse(kv.value) as ClusterEndpoint);
        const plan = planRegistration(this.config.prefix, me, state, endpoints, nodeIdFile);
        if (plan.kind === 'registered') return;
        if (plan.kind === 'clash') throw new ClusterConflict(plan.message);
        if ((await this.kv.txn({ compare: plan.compare, success: plan.success })).succeeded) return;
      }
      throw new ClusterStoreError('other hosts kept changing the registration of this host\'s node ID or address; try again');
    });
  }

  /**
   * Registers an endpoint with an address no other host holds. `plan` gets the
   * addresses taken on the network and returns the endpoint with the address
   * to claim (it throws when none is left, or when a requested one is taken).
   * With `self` (this host's identity), the host is registered first when it
   * is not (a clash is refused before anything is claimed), and the claim
   * holds only while that registration stands.
   * Also returns the whole overlay state as of the claim, which the caller
   * programs its host from (one round trip fewer than reading it again).
   */
  async addEndpoint(
    networkId: string,
    plan: (taken: string[]) => ClusterEndpoint,
    self?: { node: ClusterNode; nodeIdFile: string },
  ): Promise<{ endpoint: ClusterEndpoint; snapshot: ClusterSnapshot }> {
    return this.call('registering the endpoint', async () => {
      const ipam = this.k.ipamOf(networkId);
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        // All reads in one round trip, as of one revision: the host's own registration comes along for free.
        const mine = self ? [{ range: this.k.node(self.node.id) }, { range: this.k.vtep(self.node.vtep) }] : [];
        const {
          ranges: [net, addresses, byId, byVtep],
        } = await this.kv.txn({ compare: [], success: [{ range: this.k.network(networkId) }, { range: ipam, prefix: true }, ...mine] });
        if (!net?.kvs.length) throw new ClusterConflict(`network ${networkId} not found in the cluster store`);
        if (self && !isRegistered(self.node, this.registrationOf(self.node, byId, byVtep))) {
          await this.registerNode(self.node, self.nodeIdFile);
          continue;
        }
        const taken = addresses!.kvs.map((kv) => kv.key.slice(ipam.length));
        const ep = plan(taken);
        const { succeeded, ranges } = await this.kv.txn({
          compare: [
            { key: this.k.ip(networkId, ep.ip), target: 'CREATE', result: 'EQUAL', revision: 0 },
            // The network was not removed in the meantime.
            { key: this.k.network(networkId), target: 'VERSION', result: 'GREATER', revision: 0 },
            // Nobody took this host's node ID or VTEP address in the meantime.
            ...(self ? registrationGuard(this.config.prefix, self.node) : []),
          ],
          success: [
            { put: this.k.ip(networkId, ep.ip), value: ep.id },
            { put: this.k.endpoint(networkId, ep.id), value: JSON.stringify(ep) },
            { put: this.k.joins(networkId), value: ep.id },
            { range: this.k.root, prefix: true },
          ],
        });
        if (succeeded) return { endpoint: ep, snapshot: this.snapshotOf(ranges[0]!) };
      }
      throw new ClusterStoreError('other hosts kept taking addresses on the network; try again');
    });
  }

  /** Withdraws an endpoint and frees its address (only if the address is still this endpoint's). */
  async removeEndpoint(ep: Pick<ClusterEndpoint, 'networkId' | 'id' | 'ip'>): Promise<void> {
    return this.call('withdrawing the endpoint', async () => {
      const record: TxnOp = { delete: this.k.endpoint(ep.networkId, ep.id) };
      await this.kv.txn({
        compare: [{ key: this.k.ip(ep.networkId, ep.ip), target: 'VALUE', result: 'EQUAL', value: ep.id }],
        success: [{ delete: this.k.ip(ep.networkId, ep.ip) }, record],
        failure: [record],
      });
    });
  }
}
