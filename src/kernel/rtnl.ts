// rtnetlink for one network namespace: links, addresses, routes, neighbours
// and the bridge FDB. Reads go straight to the kernel; every change is first
// described as an Op and goes through the journal, so --explain and --dry-run
// see exactly what would be done.
//
// A netlink socket belongs to the namespace it was created in, so `open`
// creates it inside a synchronous namespace window and it stays there.
// Requests go out through plumb's own socket (netlink.ts), one at a time.
import { KernelError, errnoName, errnoText, isErrno } from './errors.js';
import { NetlinkSocket, type NetlinkMessage } from './netlink.js';
import { withinNetns, type Netns } from './netns.js';
import type { Journal, LinkSpec, Op } from './ops.js';

/** NETLINK_ROUTE */
const PROTOCOL_ROUTE = 0;
import type { LinkInfo } from './rtnl-codec.js';
import * as W from './rtnl-wire.js';
import type { BridgePortChange, ScopeName } from './rtnl-wire.js';

type Codec = typeof import('./rtnl-codec.js');
/**
 * The codec (and with it the netlink package), loaded by the first request
 * that needs it rather than with this module. A container's start needs it
 * not at all: its requests (veth, bridge port, link settings, address,
 * routes, lookups by name) are encoded by rtnl-wire.ts, whose bytes a unit
 * test holds equal to the package's; loading the package costs a process
 * 8-20 ms. Dumps, bridges, vxlan, macvlan, neighbours and the FDB use it.
 */
let C = undefined as unknown as Codec;
async function loadCodec(): Promise<void> {
  C ??= await import('./rtnl-codec.js');
}

export type { LinkInfo, VxlanInfo, MacvlanMode } from './rtnl-codec.js';
export type { BridgePortChange } from './rtnl-wire.js';

/** A bridge port's flags as `bridge -d link show` reports them. */
export interface BridgePortInfo {
  ifname: string;
  master?: string;
  /** STP port state: forwarding, disabled, blocking, ... */
  state?: string;
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  isolated: boolean;
}

export interface AddrInfo {
  dev: string;
  index: number;
  /** The interface's own address. */
  address: string;
  /** Prefix length. */
  prefix: number;
  /** address/prefix, e.g. 172.17.0.1/16. */
  cidr: string;
  broadcast?: string;
  scope: ScopeName | number;
  label?: string;
}

export interface RouteSpec {
  /** 'default' or a CIDR. */
  dst: string;
  via?: string;
  dev?: string;
  src?: string;
  scope?: 'global' | 'link' | 'host';
  metric?: number;
  onlink?: boolean;
}

export interface RouteInfo {
  /** 'default', a CIDR, or a bare address for /32 routes. */
  dst: string;
  via?: string;
  dev?: string;
  src?: string;
  scope: ScopeName | number;
  metric?: number;
  /** rtm_protocol: 2 kernel (made for an address), 3 boot (`ip route add`), 4 static, ... */
  protocol: number;
  /** rtm_type: 1 unicast, 2 local, 6 blackhole, ... */
  type: number;
  onlink: boolean;
}

export interface NeighInfo {
  dev: string;
  ip: string;
  lladdr?: string;
  /** State names as `ip neigh` prints them, lower case: ['permanent'], ['reachable'], ... */
  state: string[];
}

export interface FdbInfo {
  dev: string;
  mac: string;
  /** Remote VTEP (vxlan entries). */
  dst?: string;
  /** In the device's own table (vxlan) rather than its bridge's. */
  self: boolean;
  /** The bridge holding the entry, when it is in a bridge's table. */
  master?: string;
  state: string[];
  vlan?: number;
  vni?: number;
}

export interface VxlanOptions {
  vni: number;
  port: number;
  local?: string;
  /** Underlay device. */
  dev?: string;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  mtu?: number;
}

export interface LinkChange {
  up?: boolean;
  /** Bridge to plug into; null unplugs. */
  master?: string | null;
  mtu?: number;
  address?: string;
  rename?: string;
  /** Move the link into this namespace. */
  netns?: Netns;
}

export interface FdbOptions {
  /** Remote VTEP, for vxlan entries. */
  dst?: string;
  /** true: the device's own table (vxlan); false: its bridge's. */
  self: boolean;
}

/** Link names are limited to IFNAMSIZ - 1 bytes. */
const IFNAMSIZ = 16;
/** How long to wait for the kernel before giving up on a request. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How many times a dump is retried when the table changes under it. */
const DUMP_ATTEMPTS = 5;
const ENODEV = 19;

type MacvlanSpec = Extract<LinkSpec, { type: 'macvlan' }>;

class DumpInterrupted extends Error {}

/** Drops undefined fields so recorded ops stay tidy (JSON, deep equality). */
function tidy<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function checkName(name: string, doing: string): void {
  if (!name || Buffer.byteLength(name) >= IFNAMSIZ || /[\s/:]/.test(name)) {
    throw new KernelError(`${doing}: invalid link name "${name}" (1-15 characters, no spaces, '/' or ':')`, 'EINVAL', 22);
  }
}

/** Validates user input before it reaches a journal, so a dry run rejects what a real run would. */
function checked<T>(doing: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw new KernelError(`${doing}: ${err.message}`, 'EINVAL', 22, { cause: err });
    throw err;
  }
}

export class Rtnl {
  /**
   * ifindex by name; dropped when a link is deleted, renamed or moved here, and
   * wholesale on any ENODEV (the kernel does not reuse an ifindex soon, so a
   * stale entry fails with ENODEV rather than hitting another link).
   */
  private readonly indexes = new Map<string, number>();
  private cacheHits = 0;
  private closed = false;

  private constructor(
    readonly ns: Netns,
    private readonly journal: Journal,
    private readonly sock: NetlinkSocket | null,
  ) {}

  /**
   * Opens a socket bound to `ns`. In a dry run on a namespace that was never
   * created (fd < 0) there is no socket: reads find nothing, writes are only
   * recorded.
   */
  static open(ns: Netns, journal: Journal): Rtnl {
    if (ns.fd < 0) {
      if (journal.dryRun) return new Rtnl(ns, journal, null);
      throw new KernelError(`open netlink socket in ${ns.name ?? 'host namespace'}: namespace is not open`, 'EBADF', 9);
    }
    try {
      const sock = withinNetns(ns, () => new NetlinkSocket(PROTOCOL_ROUTE, REQUEST_TIMEOUT_MS));
      return new Rtnl(ns, journal, sock);
    } catch (err) {
      throw KernelError.from(err, `open netlink socket in ${ns.name ?? 'host namespace'}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.close();
  }

  // ---- reads ---------------------------------------------------------------

  /** One link by name (a single RTM_GETLINK, not a dump); undefined when there is none. */
  async linkByName(name: string): Promise<LinkInfo | undefined> {
    await loadCodec();
    if (!this.sock) return undefined;
    let msgs: NetlinkMessage[];
    try {
      msgs = await this.exchange(C.RTM.GETLINK, W.getLinkBody({ name }), 0, `look up link ${name}`);
    } catch (err) {
      if (isErrno(err, 'ENODEV')) {
        this.indexes.delete(name);
        return undefined;
      }
      throw err;
    }
    const reply = msgs.find((m) => m.type === C.RTM.NEWLINK);
    if (!reply) return undefined;
    const link = this.decode(() => C.decodeLink(reply.data), `look up link ${name}`);
    this.indexes.set(link.name, link.index);
    if (link.masterIndex) link.master = await this.nameOf(link.masterIndex);
    return link;
  }

  /**
   * Whether a link named `name` exists: one RTM_GETLINK encoded by
   * rtnl-wire.ts, so asking does not load the codec (a disconnect asks it of
   * the veth it deletes).
   */
  async linkExists(name: string): Promise<boolean> {
    if (!this.sock) return false;
    let msgs: NetlinkMessage[];
    try {
      msgs = await this.exchange(W.RTM.GETLINK, W.getLinkBody({ name }), 0, `look up link ${name}`);
    } catch (err) {
      if (!isErrno(err, 'ENODEV')) throw err;
      this.indexes.delete(name);
      return false;
    }
    const reply = msgs.find((m) => m.type === W.RTM.NEWLINK);
    if (reply) this.indexes.set(name, W.s32(reply.data, 4));
    else this.indexes.delete(name);
    return !!reply;
  }

  async links(): Promise<LinkInfo[]> {
    await loadCodec();
    if (!this.sock) return [];
    const msgs = await this.dump(C.RTM.GETLINK, C.AF_UNSPEC, 'list links');
    const links = msgs.filter((m) => m.type === C.RTM.NEWLINK).map((m) => this.decode(() => C.decodeLink(m.data), 'list links'));
    const byIndex = new Map(links.map((l) => [l.index, l.name]));
    this.indexes.clear();
    for (const l of links) {
      this.indexes.set(l.name, l.index);
      if (l.masterIndex) l.master = byIndex.get(l.masterIndex);
    }
    return links;
  }

  /**
   * Bridge ports and their flags (`bridge -d link show`), from one AF_BRIDGE
   * link dump. Masters are named from the index cache a links() just filled,
   * else from one link dump.
   */
  async bridgePorts(): Promise<BridgePortInfo[]> {
    if (!this.sock) return [];
    const msgs = await this.dumpWith(W.RTM.GETLINK, W.linkDumpBody(W.AF_BRIDGE), 'list bridge ports');
    const ports = msgs.filter((m) => m.type === W.RTM.NEWLINK).map((m) => this.decode(() => W.decodeBridgePort(m.data), 'list bridge ports'));
    let names = new Map([...this.indexes].map(([name, index]) => [index, name]));
    if (ports.some((p) => p.masterIndex !== undefined && !names.has(p.masterIndex))) names = await this.names();
    return ports.map((p) =>
      tidy({
        ifname: p.ifname,
        master: p.masterIndex === undefined ? undefined : names.get(p.masterIndex),
        state: p.state,
        hairpin: p.hairpin,
        learning: p.learning,
        flood: p.flood,
        isolated: p.isolated,
      }),
    );
  }

  /** IPv4 addresses, of one device or all. */
  async addresses(dev?: string): Promise<AddrInfo[]> {
    await loadCodec();
    if (!this.sock) return [];
    const names = await this.names();
    const only = dev === undefined ? undefined : this.indexFromNames(names, dev, 'list addresses');
    const msgs = await this.dump(C.RTM.GETADDR, C.AF_INET, 'list addresses');
    const out: AddrInfo[] = [];
    for (const m of msgs) {
      if (m.type !== C.RTM.NEWADDR) continue;
      const a = this.decode(() => C.decodeAddr(m.data), 'list addresses');
      if (!a || (only !== undefined && a.index !== only)) continue;
      out.push(
        tidy({
          dev: names.get(a.index) ?? `if${a.index}`,
          index: a.index,
          address: a.address,
          prefix: a.prefixLen,
          cidr: `${a.address}/${a.prefixLen}`,
          broadcast: a.broadcast,
          scope: C.scopeName(a.scope),
          label: a.label,
        }),
      );
    }
    return out;
  }

  /** IPv4 routes of the main table (what `ip route` shows). */
  async routes(): Promise<RouteInfo[]> {
    await loadCodec();
    if (!this.sock) return [];
    const names = await this.names();
    const msgs = await this.dump(C.RTM.GETROUTE, C.AF_INET, 'list routes');
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      if (m.type !== C.RTM.NEWROUTE) continue;
      const r = this.decode(() => C.decodeRoute(m.data), 'list routes');
      if (!r || r.table !== C.RT_TABLE_MAIN || r.cloned) continue;
      out.push(
        tidy({
          dst: r.dst,
          via: r.via,
          dev: r.oif === undefined ? undefined : names.get(r.oif) ?? `if${r.oif}`,
          src: r.src,
          scope: C.scopeName(r.scope),
          metric: r.metric,
          protocol: r.protocol,
          type: r.type,
          onlink: r.onlink,
        }),
      );
    }
    return out;
  }

  /** IPv4 neighbours (ARP entries), of one device or all. */
  async neighbours(dev?: string): Promise<NeighInfo[]> {
    await loadCodec();
    if (!this.sock) return [];
    const names = await this.names();
    const only = dev === undefined ? undefined : this.indexFromNames(names, dev, 'list neighbours');
    const msgs = await this.dump(C.RTM.GETNEIGH, C.AF_INET, 'list neighbours');
    const out: NeighInfo[] = [];
    for (const m of msgs) {
      if (m.type !== C.RTM.NEWNEIGH) continue;
      const n = this.decode(() => C.decodeNeigh(m.data), 'list neighbours');
      if (n.family !== C.AF_INET || !n.dst || (only !== undefined && n.index !== only)) continue;
      out.push(tidy({ dev: names.get(n.index) ?? `if${n.index}`, ip: n.dst, lladdr: n.lladdr, state: C.nudNames(n.state) }));
    }
    return out;
  }

  /** Bridge forwarding database entries (`bridge fdb show`), of one device or all. */
  async fdb(dev?: string): Promise<FdbInfo[]> {
    await loadCodec();
    if (!this.sock) return [];
    const names = await this.names();
    const only = dev === undefined ? undefined : this.indexFromNames(names, dev, 'list fdb');
    const msgs = await this.dump(C.RTM.GETNEIGH, C.AF_BRIDGE, 'list fdb');
    const out: FdbInfo[] = [];
    for (const m of msgs) {
      if (m.type !== C.RTM.NEWNEIGH) continue;
      const n = this.decode(() => C.decodeNeigh(m.data), 'list fdb');
      if (n.family !== C.AF_BRIDGE || !n.lladdr || (only !== undefined && n.index !== only)) continue;
      out.push(
        tidy({
          dev: names.get(n.index) ?? `if${n.index}`,
          mac: n.lladdr,
          dst: n.dst,
          self: (n.flags & C.NTF_SELF) !== 0,
          master: n.masterIndex === undefined ? undefined : names.get(n.masterIndex),
          state: C.nudNames(n.state),
          vlan: n.vlan,
          vni: n.vni,
        }),
      );
    }
    return out;
  }

  // ---- links ---------------------------------------------------------------

  /** `ip link add NAME type bridge` */
  async addBridge(name: string, opts: { mtu?: number; address?: string } = {}, why?: string): Promise<void> {
    await loadCodec();
    const doing = `add link ${name}`;
    checkName(name, doing);
    const attrs = checked(doing, () => C.linkAttrs({ ifname: name, mtu: opts.mtu, address: opts.address === undefined ? undefined : C.macBytes(opts.address) }));
    const spec: LinkSpec = tidy({ type: 'bridge' as const, mtu: opts.mtu, address: opts.address });
    await this.journal.run(this.op({ kind: 'link.add', ns: this.ns.name, name, spec, why }), () => this.fresh(async () => {
      await this.exchange(C.RTM.NEWLINK, C.linkBody(C.ifinfomsg(), attrs, C.linkInfo('bridge')), C.NLM_F.CREATE | C.NLM_F.EXCL, doing);
    }));
  }

  /**
   * `ip link add NAME [master BR] [up] type veth peer name PEER netns PEERNS`:
   * one request, the peer is born inside peerNs (IFLA_NET_NS_FD in the peer's
   * attributes), so it never appears in this namespace. `mtu` applies to both
   * ends. `master` and `up` apply to this end, which the kernel brings up and
   * then plugs in; the peer cannot be brought up in the same request (the
   * kernel refuses: its twin does not exist yet when it is configured).
   */
  async addVeth(
    name: string,
    peer: string,
    peerNs: Netns,
    opts: { mtu?: number; peerAddress?: string; master?: string; up?: boolean } = {},
    why?: string,
  ): Promise<{ peerIndex?: number }> {
    const doing = `add link ${name}`;
    checkName(name, doing);
    checkName(peer, doing);
    if (opts.peerAddress !== undefined) checked(doing, () => W.macBytes(opts.peerAddress!));
    const spec: LinkSpec = tidy({ type: 'veth' as const, peer, peerNs: peerNs.name, mtu: opts.mtu, peerAddress: opts.peerAddress, master: opts.master, up: opts.up });
    const made = await this.journal.run(this.op({ kind: 'link.add', ns: this.ns.name, name, spec, why }), () => this.fresh(async () => {
      const master = opts.master === undefined ? undefined : await this.index(opts.master, doing);
      const body = W.vethBody({ name, peer, peerNsFd: peerNs.fd, mtu: opts.mtu, peerAddress: opts.peerAddress, master, up: opts.up });
      // ECHO: the new link's message comes back with the answer (kernels that do not echo send none).
      const replies = await this.exchange(W.RTM.NEWLINK, body, W.NLM_F.CREATE | W.NLM_F.EXCL | W.NLM_F.ECHO, doing);
      return this.learnCreated(replies, name);
    }));
    return made ?? {};
  }

  /**
   * Remembers the ifindex of a link just created, from the kernel's echo of it,
   * and returns the index of its twin (IFLA_LINK: a veth's peer, as numbered
   * in the peer's namespace), so no lookup has to ask for either.
   */
  private learnCreated(replies: NetlinkMessage[], name: string): { peerIndex?: number } {
    const echo = replies.find((m) => m.type === W.RTM.NEWLINK);
    if (!echo) return {};
    const link = this.decode(() => W.linkIdentity(echo.data), `add link ${name}`);
    if (link.name !== name) return {};
    this.indexes.set(name, link.index);
    return { peerIndex: link.parentIndex };
  }

  /**
   * An ifindex learnt elsewhere (a veth's twin, from the echo of its creation
   * in another namespace). A stale one is caught like any cached index: ENODEV,
   * then a lookup.
   */
  rememberIndex(name: string, index: number): void {
    this.indexes.set(name, index);
  }

  /** `ip link add NAME type vxlan id VNI dstport PORT [local IP] [dev DEV] [nolearning] [proxy] [l2miss] [l3miss]` */
  async addVxlan(name: string, opts: VxlanOptions, why?: string): Promise<void> {
    await loadCodec();
    const doing = `add link ${name}`;
    checkName(name, doing);
    if (!(Number.isInteger(opts.vni) && opts.vni >= 0 && opts.vni < 1 << 24)) throw new KernelError(`${doing}: VNI ${opts.vni} is not a 24-bit number`, 'EINVAL', 22);
    if (!(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) throw new KernelError(`${doing}: invalid UDP port ${opts.port}`, 'EINVAL', 22);
    checked(doing, () => C.vxlanData(opts));
    const spec: LinkSpec = tidy({ type: 'vxlan' as const, ...opts });
    await this.journal.run(this.op({ kind: 'link.add', ns: this.ns.name, name, spec, why }), () => this.fresh(async () => {
      const link = opts.dev === undefined ? undefined : await this.index(opts.dev, doing);
      const data = C.vxlanData({ ...opts, link });
      const body = C.linkBody(C.ifinfomsg(), C.linkAttrs({ ifname: name, mtu: opts.mtu }), C.linkInfo('vxlan', data));
      await this.exchange(C.RTM.NEWLINK, body, C.NLM_F.CREATE | C.NLM_F.EXCL, doing);
    }));
  }

  /**
   * `ip link add NAME link PARENT [netns TARGET] type macvlan mode MODE`: the
   * parent is looked up here, the child is born inside targetNs when given.
   */
  async addMacvlan(
    name: string,
    parent: string,
    mode: 'bridge' | 'vepa' | 'private' | 'passthru',
    targetNs?: Netns,
    opts: { mtu?: number; address?: string } = {},
    why?: string,
  ): Promise<void> {
    await loadCodec();
    const doing = `add link ${name}`;
    checkName(name, doing);
    const mac = opts.address === undefined ? undefined : checked(doing, () => C.macBytes(opts.address!));
    const spec: MacvlanSpec = tidy({ type: 'macvlan' as const, parent, mode, mtu: opts.mtu, address: opts.address, targetNs: targetNs?.name });
    await this.journal.run(this.op({ kind: 'link.add', ns: this.ns.name, name, spec, why }), () => this.fresh(async () => {
      const parentIndex = await this.index(parent, doing);
      const attrs = C.linkAttrs({ ifname: name, link: parentIndex, netNsFd: targetNs?.fd, mtu: opts.mtu, address: mac });
      await this.exchange(C.RTM.NEWLINK, C.linkBody(C.ifinfomsg(), attrs, C.linkInfo('macvlan', C.macvlanData(mode))), C.NLM_F.CREATE | C.NLM_F.EXCL, doing);
    }));
  }

  /** `ip link del NAME` (a veth's peer goes with it). */
  async deleteLink(name: string, why?: string): Promise<void> {
    const doing = `delete link ${name}`;
    await this.journal.run(this.op({ kind: 'link.del', ns: this.ns.name, name, why }), () => this.fresh(async () => {
      this.indexes.delete(name);
      await this.exchange(W.RTM.DELLINK, W.linkBody(W.ifinfomsg(), { ifname: name }), 0, doing);
    }));
  }

  /**
   * `ip link set NAME [netns NS] [address MAC] [mtu N] [name NEW] [master BR | nomaster] [up | down]`,
   * in one request. The kernel applies the move first and the up/down flag last.
   */
  async setLink(name: string, change: LinkChange, why?: string): Promise<void> {
    const doing = `set link ${name}`;
    if (change.rename !== undefined) checkName(change.rename, doing);
    const mac = change.address === undefined ? undefined : checked(doing, () => W.macBytes(change.address!));
    const op = tidy({
      kind: 'link.set' as const,
      ns: this.ns.name,
      name,
      up: change.up,
      master: change.master,
      mtu: change.mtu,
      address: change.address,
      rename: change.rename,
      netns: change.netns === undefined ? undefined : change.netns.name,
      why,
    });
    await this.journal.run(op, () => this.fresh(async () => {
      // Without a rename, a link whose index is not known yet is named in the request itself
      // (ifi_index 0 + IFLA_IFNAME, which the kernel then reads as "which link"): no lookup first.
      const byName = change.rename === undefined && !this.indexes.has(name);
      const index = byName ? 0 : await this.index(name, doing);
      let master: number | undefined;
      if (change.master === null) master = 0;
      else if (change.master !== undefined) master = await this.index(change.master, doing);
      const head = W.ifinfomsg({ index, up: change.up, changeUp: change.up !== undefined });
      const attrs = { ifname: byName ? name : change.rename, mtu: change.mtu, address: mac, master, netNsFd: change.netns?.fd };
      try {
        await this.exchange(W.RTM.SETLINK, W.linkBody(head, attrs), 0, doing);
      } catch (err) {
        if (byName && isErrno(err, 'ENODEV')) throw new KernelError(`${doing}: no such device ${name}`, 'ENODEV', ENODEV, { cause: err });
        throw err;
      } finally {
        if (change.rename !== undefined || change.netns !== undefined) this.indexes.delete(name);
      }
    }));
  }

  /** `bridge link set dev NAME [hairpin on|off] [learning on|off] [flood on|off] [isolated on|off]` */
  async setBridgePort(name: string, change: BridgePortChange, why?: string): Promise<void> {
    const doing = `set bridge port ${name}`;
    const op: Op = tidy({ kind: 'brport.set' as const, ns: this.ns.name, name, ...change, why });
    await this.journal.run(op, () => this.fresh(async () => {
      const index = await this.index(name, doing);
      await this.exchange(W.RTM.SETLINK, W.bridgePortBody(index, change), 0, doing);
    }));
  }

  // ---- addresses -----------------------------------------------------------

  /**
   * `ip addr add CIDR brd + dev DEV`: like Docker, the broadcast address is
   * set (172.17.255.255 for 172.17.0.1/16); the op records it.
   */
  async addAddress(dev: string, cidr: string, why?: string): Promise<void> {
    const doing = `add address ${cidr} to ${dev}`;
    const c = checked(doing, () => W.parseCidr(cidr));
    const broadcast = W.broadcastOf(c);
    await this.journal.run(this.op(tidy({ kind: 'addr.add' as const, ns: this.ns.name, dev, cidr, broadcast, why })), () => this.fresh(async () => {
      const index = await this.index(dev, doing);
      await this.exchange(W.RTM.NEWADDR, W.addrBody(index, c, broadcast), W.NLM_F.CREATE | W.NLM_F.EXCL, doing);
    }));
  }

  /** `ip addr del CIDR dev DEV` */
  async deleteAddress(dev: string, cidr: string, why?: string): Promise<void> {
    const doing = `delete address ${cidr} from ${dev}`;
    const c = checked(doing, () => W.parseCidr(cidr));
    await this.journal.run(this.op(tidy({ kind: 'addr.del' as const, ns: this.ns.name, dev, cidr, why })), () => this.fresh(async () => {
      const index = await this.index(dev, doing);
      await this.exchange(W.RTM.DELADDR, W.addrBody(index, c), 0, doing);
    }));
  }

  // ---- routes --------------------------------------------------------------

  /** `ip route add ...` */
  addRoute(r: RouteSpec, why?: string): Promise<void> {
    return this.route('route.add', r, why);
  }

  /** `ip route replace ...` */
  replaceRoute(r: RouteSpec, why?: string): Promise<void> {
    return this.route('route.replace', r, why);
  }

  /** `ip route del ...` */
  deleteRoute(r: RouteSpec, why?: string): Promise<void> {
    return this.route('route.del', r, why);
  }

  private async route(kind: 'route.add' | 'route.replace' | 'route.del', r: RouteSpec, why?: string): Promise<void> {
    const verb = kind === 'route.add' ? 'add' : kind === 'route.replace' ? 'replace' : 'delete';
    const doing = `${verb} route ${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
    const dst = r.dst === 'default' ? null : checked(doing, () => W.parseCidr(r.dst));
    checked(doing, () => W.routeBody({ dst, via: r.via, src: r.src }));
    const op = tidy({ kind, ns: this.ns.name, dst: r.dst, via: r.via, dev: r.dev, src: r.src, scope: r.scope, metric: r.metric, onlink: r.onlink, why });
    await this.journal.run(op, () => this.fresh(async () => {
      const oif = r.dev === undefined ? undefined : await this.index(r.dev, doing);
      const body = W.routeBody({ dst, via: r.via, oif, src: r.src, scope: r.scope, metric: r.metric, onlink: r.onlink, forDelete: kind === 'route.del' });
      const type = kind === 'route.del' ? W.RTM.DELROUTE : W.RTM.NEWROUTE;
      const flags = kind === 'route.add' ? W.NLM_F.CREATE | W.NLM_F.EXCL : kind === 'route.replace' ? W.NLM_F.CREATE | W.NLM_F.REPLACE : 0;
      await this.exchange(type, body, flags, doing);
    }));
  }

  // ---- neighbours and FDB --------------------------------------------------

  /** `ip neigh replace IP lladdr MAC dev DEV nud permanent` */
  async replaceNeighbour(dev: string, ip: string, lladdr: string, why?: string): Promise<void> {
    await loadCodec();
    const doing = `replace neighbour ${ip} on ${dev}`;
    checked(doing, () => C.neighBody(0, ip, lladdr));
    await this.journal.run(this.op(tidy({ kind: 'neigh.replace' as const, ns: this.ns.name, dev, ip, lladdr, why })), () => this.fresh(async () => {
      const index = await this.index(dev, doing);
      await this.exchange(C.RTM.NEWNEIGH, C.neighBody(index, ip, lladdr), C.NLM_F.CREATE | C.NLM_F.REPLACE, doing);
    }));
  }

  /** `ip neigh del IP dev DEV` */
  async deleteNeighbour(dev: string, ip: string, why?: string): Promise<void> {
    await loadCodec();
    const doing = `delete neighbour ${ip} on ${dev}`;
    checked(doing, () => C.neighBody(0, ip));
    await this.journal.run(this.op(tidy({ kind: 'neigh.del' as const, ns: this.ns.name, dev, ip, why })), () => this.fresh(async () => {
      const index = await this.index(dev, doing);
      await this.exchange(C.RTM.DELNEIGH, C.neighBody(index, ip), 0, doing);
    }));
  }

  /**
   * `bridge fdb append MAC dev DEV [dst IP] self permanent` (or `master static`
   * when self is false). Appending lets one MAC (00:00:00:00:00:00: flood) have
   * several remote VTEPs.
   */
  appendFdb(dev: string, mac: string, o: FdbOptions, why?: string): Promise<void> {
    return this.fdbChange('fdb.append', dev, mac, o, why);
  }

  /** `bridge fdb replace MAC dev DEV [dst IP] self permanent` (or `master static`): one VTEP per learned MAC. */
  replaceFdb(dev: string, mac: string, o: FdbOptions, why?: string): Promise<void> {
    return this.fdbChange('fdb.replace', dev, mac, o, why);
  }

  /** `bridge fdb del MAC dev DEV [dst IP] self|master`: with dst, only that VTEP is removed. */
  deleteFdb(dev: string, mac: string, o: FdbOptions, why?: string): Promise<void> {
    return this.fdbChange('fdb.del', dev, mac, o, why);
  }

  private async fdbChange(kind: 'fdb.append' | 'fdb.replace' | 'fdb.del', dev: string, mac: string, o: FdbOptions, why?: string): Promise<void> {
    await loadCodec();
    const verb = kind.slice(4);
    const doing = `${verb === 'del' ? 'delete' : verb} fdb ${mac}${o.dst ? ` dst ${o.dst}` : ''} on ${dev}`;
    checked(doing, () => C.fdbBody(0, mac, o.self, o.dst));
    await this.journal.run(this.op(tidy({ kind, ns: this.ns.name, dev, mac, dst: o.dst, self: o.self, why })), () => this.fresh(async () => {
      const index = await this.index(dev, doing);
      const type = kind === 'fdb.del' ? C.RTM.DELNEIGH : C.RTM.NEWNEIGH;
      const flags = kind === 'fdb.append' ? C.NLM_F.CREATE | C.NLM_F.APPEND : kind === 'fdb.replace' ? C.NLM_F.CREATE | C.NLM_F.REPLACE : 0;
      await this.exchange(type, C.fdbBody(index, mac, o.self, o.dst), flags, doing);
    }));
  }

  // ---- plumbing ------------------------------------------------------------

  /** Drops undefined fields (such as an absent `why`) from an op, keeping its type. */
  private op<T extends Op>(op: T): T {
    return tidy(op);
  }

  /** ifindex of `name`, from the cache or one RTM_GETLINK. */
  private async index(name: string, doing: string): Promise<number> {
    const cached = this.indexes.get(name);
    if (cached !== undefined) {
      this.cacheHits++;
      return cached;
    }
    let msgs: NetlinkMessage[];
    try {
      msgs = await this.exchange(W.RTM.GETLINK, W.getLinkBody({ name }), 0, doing);
    } catch (err) {
      if (isErrno(err, 'ENODEV')) throw new KernelError(`${doing}: no such device ${name}`, 'ENODEV', ENODEV, { cause: err });
      throw err;
    }
    const reply = msgs.find((m) => m.type === W.RTM.NEWLINK);
    if (!reply) throw new KernelError(`${doing}: no such device ${name}`, 'ENODEV', ENODEV);
    const index = W.s32(reply.data, 4);
    this.indexes.set(name, index);
    return index;
  }

  /**
   * Runs a change that looks up ifindexes; if the kernel says a device is gone
   * and an index came from the cache, looks them up again and retries once (a
   * link deleted and re-created behind our back has a new index). Safe to
   * repeat: ENODEV means nothing was changed.
   */
  private async fresh<T>(fn: () => Promise<T>): Promise<T> {
    const hits = this.cacheHits;
    try {
      return await fn();
    } catch (err) {
      if (!isErrno(err, 'ENODEV') || this.cacheHits === hits) throw err;
      this.indexes.clear();
      return await fn();
    }
  }

  private async nameOf(index: number): Promise<string | undefined> {
    try {
      const msgs = await this.exchange(C.RTM.GETLINK, W.getLinkBody({ index }), 0, `look up link ${index}`);
      const reply = msgs.find((m) => m.type === C.RTM.NEWLINK);
      return reply ? C.decodeLink(reply.data).name : undefined;
    } catch (err) {
      if (isErrno(err, 'ENODEV')) return undefined;
      throw err;
    }
  }

  /**
   * ifindex -> name for every link (one dump). Only each link's name and
   * index are decoded (rtnl-wire.ts): the package's full decoding of every
   * link cost each address, route, neighbour or FDB listing several ms.
   */
  private async names(): Promise<Map<number, string>> {
    if (!this.sock) return new Map();
    const msgs = await this.dumpWith(W.RTM.GETLINK, W.linkDumpBody(W.AF_UNSPEC), 'list links');
    const names = new Map<number, string>();
    for (const m of msgs) {
      if (m.type !== W.RTM.NEWLINK) continue;
      const { index, name } = this.decode(() => W.linkIdentity(m.data), 'list links');
      names.set(index, name);
    }
    this.indexes.clear();
    for (const [index, name] of names) this.indexes.set(name, index);
    return names;
  }

  private indexFromNames(names: Map<number, string>, dev: string, doing: string): number {
    for (const [index, name] of names) if (name === dev) return index;
    throw new KernelError(`${doing}: no such device ${dev}`, 'ENODEV', ENODEV);
  }

  private decode<T>(fn: () => T, doing: string): T {
    try {
      return fn();
    } catch (err) {
      throw new KernelError(`${doing}: malformed reply from the kernel (${(err as Error).message})`, 'EPROTO', 71, { cause: err });
    }
  }

  /** A whole-table dump, retried when the kernel says the table changed while it was being read. */
  private async dump(type: number, family: number, doing: string): Promise<NetlinkMessage[]> {
    return this.dumpWith(type, C.dumpBody(type, family), doing);
  }

  private async dumpWith(type: number, body: Buffer, doing: string): Promise<NetlinkMessage[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.exchange(type, body, W.NLM_F.DUMP, doing);
      } catch (err) {
        if (!(err instanceof DumpInterrupted)) throw err;
        if (attempt >= DUMP_ATTEMPTS) {
          throw new KernelError(`${doing}: the table kept changing while it was read (${attempt} attempts)`, 'EINTR', 4);
        }
      }
    }
  }

  /**
   * Sends one request and reads its answer: the reply messages (a dump's
   * parts without DONE), or [] for a plain acknowledgement. Kernel errors
   * become KernelErrors that say what was being done. Synchronous underneath
   * (see netlink.ts), so requests never interleave on the socket.
   */
  private async exchange(type: number, body: Buffer, flags: number, doing: string): Promise<NetlinkMessage[]> {
    const sock = this.sock;
    if (!sock || this.closed) throw new KernelError(`${doing}: netlink socket is ${sock ? 'closed' : 'not open (dry run)'}`, 'EBADF', 9);
    let msgs: NetlinkMessage[];
    try {
      msgs = sock.request(type, flags, body);
    } catch (err) {
      // SO_RCVTIMEO ran out: the read ends with EAGAIN.
      if (isErrno(err, 'EAGAIN')) {
        throw new KernelError(`${doing}: no answer from the kernel within ${REQUEST_TIMEOUT_MS / 1000}s`, 'ETIMEDOUT', 110, { cause: err });
      }
      throw KernelError.from(err, doing);
    }
    const replies: NetlinkMessage[] = [];
    let interrupted = false;
    let doneErrno = 0;
    for (const m of msgs) {
      if (m.flags & W.NLM_F.DUMP_INTR) interrupted = true;
      if (m.type === W.NLMSG_ERROR) {
        const errno = -W.s32(m.data, 0);
        if (errno > 0) {
          if (errno === ENODEV) this.indexes.clear();
          throw new KernelError(`${doing}: ${errnoText(errno)}`, errnoName(errno), errno);
        }
      } else if (m.type === W.NLMSG_DONE) {
        if (m.data.length >= 4 && -W.s32(m.data, 0) > 0) doneErrno = -W.s32(m.data, 0);
      } else {
        replies.push(m);
      }
    }
    if (doneErrno) throw new KernelError(`${doing}: ${errnoText(doneErrno)}`, errnoName(doneErrno), doneErrno);
    if (interrupted) throw new DumpInterrupted();
    return replies;
  }

}
