// The local store. An operation on one container reads and writes that
// container, not the whole host: the host document (store.json: networks,
// host-wide facts, the derived indexes) is small, each container is a file of
// its own, and a name index finds a container by name without reading the
// others (files.ts has the layout, containers.ts what loads what).
//
// Writers hold the store lock (one for the whole store: two plumb processes
// never hand out the same address). A commit that changes more than one file
// is made atomic by a commit file: every changed document is first written
// into store.commit (itself renamed into place whole), then applied file by
// file (records, name links, the host document last), then store.commit is
// retired. A writer killed half-way leaves store.commit behind; the next
// holder of the lock applies it again before reading (applying is idempotent),
// so a commit is either wholly there or not at all.
//
// Readers without the lock (the DNS resolver, ps, inspect) read the same files.
// A pending store.commit newer than the host document is laid over what they
// read, so they see a commit whole even while it is being applied. Each file
// is replaced by rename, so every file read is whole; a reader that needs all
// records as of one moment (the resolver) uses snapshot(), which reads again
// when the generation changed meanwhile. changeKey() tells cheaply whether
// anything changed since the last read (the first bytes of store.json).
//
// A store.json of the earlier layout (one document holding every container)
// is read as it is by readers and migrated by the first writer.
import { dirname } from 'node:path';
import { isPermissionError, rootOnly } from '../kernel/private.js';
import { StoreLock } from '../kernel/lock.js';
import { ContainerTable, INDEXES, INDEX_NAMES, isContainerId, registerTable, tableOf, type IndexName, type RecordSource } from './containers.js';
import {
  commitFile,
  dropNameLink,
  hostFile,
  publishFromSpare,
  readHead,
  readIfExists,
  readNameLink,
  recordFile,
  recordsDir,
  removeRecycling,
  replaceRecycling,
  replaceKeepingSpare,
  retireToSpare,
  setNameLink,
  storedIds,
  allocationFile,
  appendTo,
  networksDir,
} from './files.js';
import { allocationChange, allocationText, committed, loadAllocations, type AllocationChange } from './allocations.js';
import { emptyStore, type ContainerRecord, type NetworkRecord, type StoreData } from './model.js';
import { lockFile, type Paths } from './paths.js';

export { containersWhere } from './containers.js';

/** How often a lock-free read tries before it calls the store unreadable (or, for snapshot, settles for what it read). */
const READ_ATTEMPTS = 3;
/** Layout of the files (StoreData.version is the shape the engine sees, 1). */
const LAYOUT = 2;

/** store.json as written: everything of StoreData but the containers, plus the indexes. */
interface HostDocument {
  version: typeof LAYOUT;
  generation: number;
  index: Record<IndexName, string[]>;
  networks: Record<string, NetworkRecord>;
  [fact: string]: unknown;
}

/** One commit: the new text of every changed document. null: the record is removed. */
interface Commit {
  generation: number;
  records: Record<string, string | null>;
  /** name -> id: links to make (or repoint). */
  links: Record<string, string>;
  /** name -> id: links to remove if they still point at id. */
  unlinks: Record<string, string>;
  /** network id -> lines to append to its allocation file, or its whole new text; null: the network is gone. */
  allocations?: Record<string, AllocationChange | null>;
  host: string;
}

/** What a locked() operation loaded, to commit against. */
interface Loaded {
  table: ContainerTable;
  generation: number;
  /** store.json's text after its generation (see hostText), as stored. */
  body: string;
  index: Record<IndexName, Set<string>>;
  /** Name each stored record had as stored, by id. */
  names: Map<string, string>;
  /** Networks in the host document as stored. */
  networkIds: Set<string>;
}

/** store.json begins with its generation, so changeKey() reads a few bytes, not the document. */
function hostText(generation: number, body: string): string {
  return `{"version":${LAYOUT},"generation":${generation},${body.slice(1)}`;
}

function generationOf(head: string | undefined): number | undefined {
  const m = head && /^\{"version":2,"generation":(\d+),/.exec(head);
  return m ? Number(m[1]) : undefined;
}

/** A store never written: the host document of an empty store. */
function emptyHost(): Record<string, unknown> {
  const { containers, ...facts } = emptyStore();
  void containers;
  return { ...facts, version: LAYOUT, generation: 0 };
}

function emptyIndex(): Record<IndexName, Set<string>> {
  return Object.fromEntries(INDEX_NAMES.map((n) => [n, new Set<string>()])) as Record<IndexName, Set<string>>;
}

/** What one read of the files found: the host document and, while a commit is applied, its new documents. */
interface View {
  /** The host document parsed (either layout). */
  host: Record<string, unknown>;
  generation: number;
  /** Records and links of a commit being applied, laid over the files. */
  pending?: Commit;
}

/**
 * The store as readers without the lock see it (the resolver, ps, inspect):
 * read() for what an operation asks, snapshot() for every container at one
 * generation, changeKey() to know cheaply whether to read again.
 */
export class StoreReader {
  protected readonly file: string;

  /** `state`: the state directory (Paths.state), where store.json is. */
  constructor(protected readonly state: string) {
    this.file = hostFile(state);
  }

  // ---------------------------------------------------------------- reading

  /** The host document and any commit being applied, read without the lock. */
  protected view(): View {
    for (let attempt = 1; ; attempt++) {
      try {
        const text = readIfExists(this.file);
        const host = text === undefined ? emptyHost() : (JSON.parse(text) as Record<string, unknown>);
        const generation = typeof host.generation === 'number' ? host.generation : 0;
        const commitText = readIfExists(commitFile(this.state));
        const pending = commitText === undefined ? undefined : (JSON.parse(commitText) as Commit);
        if (pending && pending.generation > generation) return { host: JSON.parse(pending.host) as Record<string, unknown>, generation: pending.generation, pending };
        return { host, generation };
      } catch (err) {
        if (isPermissionError(err)) throw rootOnly(this.file);
        // A torn read of a version being recycled as the spare (see files.ts): the next open finds a whole one.
        if (err instanceof SyntaxError && attempt < READ_ATTEMPTS) continue;
        throw new Error(`the store ${this.file} is unreadable (${(err as Error).message}); run plumb system reset to start over`);
      }
    }
  }

  /** Where a table reads records it has not loaded, for a view. */
  private source(v: View): RecordSource {
    const state = this.state;
    const pending = v.pending;
    const host = v.host as Partial<HostDocument>;
    return {
      text: (id) => {
        if (pending && id in pending.records) return pending.records[id] ?? undefined;
        try {
          return readIfExists(recordFile(state, id));
        } catch (err) {
          if (isPermissionError(err)) throw rootOnly(recordFile(state, id));
          throw err;
        }
      },
      ids: () => {
        const ids = new Set(storedIds(state));
        for (const [id, text] of Object.entries(pending?.records ?? {})) {
          if (text === null) ids.delete(id);
          else ids.add(id);
        }
        return [...ids];
      },
      nameLink: (name) => {
        if (pending && name in pending.links) return pending.links[name];
        const id = readNameLink(state, name);
        return pending && id !== undefined && pending.unlinks[name] === id ? undefined : id;
      },
      indexed: (index) => host.index?.[index] ?? [],
    };
  }

  /** StoreData over a view: the host document's facts, containers loaded on demand (or the old layout's, whole). */
  protected dataOf(v: View): { data: StoreData; table?: ContainerTable } {
    const { version, generation, index, containers, ...facts } = v.host;
    void generation;
    void index;
    if (version !== LAYOUT) return { data: v.host as unknown as StoreData };
    void containers;
    const table = new ContainerTable(this.source(v));
    registerTable(table);
    const data = { version: 1, ...facts, containers: table.proxy } as unknown as StoreData;
    for (const net of Object.values(data.networks)) this.lazyAllocated(net, v);
    return { data, table };
  }

  /**
   * A network's `allocated` map (address -> endpoint, one entry per container
   * on it: 85 kB at a thousand) is a file of its own, read on first use (an
   * operation pays for the map of the network it works on, never for the
   * others; ps, inspect and the resolver read none), and written by appending
   * what changed (allocations.ts), so taking one address does not rewrite
   * a thousand.
   */
  private lazyAllocated(net: NetworkRecord, v: View): void {
    if (Object.prototype.hasOwnProperty.call(net, 'allocated')) return;
    const file = allocationFile(this.state, net.id);
    const load = (): Record<string, string> => {
      const pending = v.pending?.allocations?.[net.id];
      let text = readIfExists(file) ?? '';
      if (pending && 'replace' in pending) text = pending.replace;
      else if (pending) text += pending.append;
      return loadAllocations(text).map;
    };
    const settle = (value: Record<string, string>) => Object.defineProperty(net, 'allocated', { value, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(net, 'allocated', {
      configurable: true,
      enumerable: true,
      get() {
        const value = load();
        settle(value);
        return value;
      },
      set(value: Record<string, string>) {
        settle(value);
      },
    });
  }

  /**
   * The store as it is now, without the lock: networks and host facts read,
   * containers read as they are asked for (each file whole).
   */
  read(): StoreData {
    return this.dataOf(this.view()).data;
  }

  /**
   * Every container as of one generation, without the lock: what a reader
   * that serves all containers (the DNS resolver) loads. Reads again when a
   * commit landed meanwhile (READ_ATTEMPTS times, then keeps the last read:
   * each record in it is still whole).
   */
  snapshot(): StoreData {
    for (let attempt = 1; ; attempt++) {
      const v = this.view();
      const { data, table } = this.dataOf(v);
      if (!table) return data;
      table.loadAll();
      if (this.changeKey() === `g${v.generation}` || attempt >= READ_ATTEMPTS) return { ...data, containers: { ...table.records } };
    }
  }

  /** Changes whenever the store does: compare it with the key of the last read to know whether to read again. */
  changeKey(): string {
    let head: string | undefined;
    try {
      head = readHead(this.file);
    } catch (err) {
      if (isPermissionError(err)) throw rootOnly(this.file);
      throw err;
    }
    if (head === undefined) return 'missing';
    const g = generationOf(head);
    if (g !== undefined) return `g${g}`;
    // The earlier layout has no generation: its whole text is the key.
    return `t${readIfExists(this.file) ?? ''}`;
  }

}

/** The store as operations use it: lock-free reads (StoreReader), and writes under the store lock. */
export class Store extends StoreReader {
  private readonly lock: StoreLock;
  private readonly loaded = new WeakMap<StoreData, Loaded>();

  /** With dryRun, nothing is ever written: a --dry-run shows changes and keeps the store as it was. */
  constructor(
    readonly paths: Paths,
    private readonly dryRun = false,
  ) {
    super(paths.state);
    this.lock = new StoreLock(lockFile(paths));
  }

  /**
   * Runs `fn` with the lock held and the store loaded; `fn` mutates the data in
   * place and saves with `commit()` (it may commit several times, e.g. to record
   * an intent before touching the kernel). The lock is released whatever happens.
   */
  async locked<T>(fn: (data: StoreData, commit: () => void) => Promise<T>): Promise<T> {
    return this.exclusive(() => {
      const data = this.loadForWrite();
      return fn(data, () => this.write(data));
    });
  }

  /** Runs `fn` with the lock held, without loading the store. The lock nests: locked() inside keeps it. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.lock.acquire();
    try {
      return await fn();
    } finally {
      this.lock.release();
    }
  }

  /** Under the lock: finishes a commit cut short, migrates the earlier layout, then loads. */
  private loadForWrite(): StoreData {
    if (!this.dryRun) this.recover();
    const v = this.view();
    const { data, table } = this.dataOf(v);
    if (!table) {
      // A dry run on a store of the earlier layout: it is never written, so it is used as read.
      return data;
    }
    const index = emptyIndex();
    const hostIndex = (v.host as Partial<HostDocument>).index;
    for (const n of INDEX_NAMES) for (const id of hostIndex?.[n] ?? []) index[n].add(id);
    this.loaded.set(data, {
      table,
      generation: v.generation,
      body: bodyOf(data, index),
      index,
      names: new Map(),
      networkIds: new Set(Object.keys(data.networks)),
    });
    return data;
  }

  /** A commit left by a writer that died applying it is applied again; a store of the earlier layout is migrated. */
  private recover(): void {
    const text = readIfExists(commitFile(this.state));
    if (text !== undefined) {
      let pending: Commit;
      try {
        pending = JSON.parse(text) as Commit;
      } catch (err) {
        throw new Error(`the store's pending commit ${commitFile(this.state)} is unreadable (${(err as Error).message}); run plumb system reset to start over`);
      }
      this.apply(pending);
      retireToSpare(commitFile(this.state));
    }
    const host = readIfExists(this.file);
    if (host !== undefined && generationOf(host.slice(0, 64)) === undefined) this.migrate(host);
  }

  /**
   * store.json of the earlier layout (every container inside it) -> one file
   * per container. Records and links first, store.json last: a migration cut
   * short is simply done again (store.json still has every container).
   */
  private migrate(text: string): void {
    let old: StoreData;
    try {
      old = JSON.parse(text) as StoreData;
    } catch (err) {
      throw new Error(`the store ${this.file} is unreadable (${(err as Error).message}); run plumb system reset to start over`);
    }
    const { containers = {}, version, ...facts } = old;
    void version;
    for (const net of Object.values(facts.networks ?? {})) {
      replaceRecycling(this.state, networksDir(this.state), allocationFile(this.state, net.id), allocationText(net.allocated ?? {}));
    }
    const index = emptyIndex();
    for (const c of Object.values(containers)) {
      replaceRecycling(this.state, recordsDir(this.state), recordFile(this.state, c.id), JSON.stringify(c));
      setNameLink(this.state, c.name, c.id);
      for (const n of INDEX_NAMES) if (INDEXES[n](c)) index[n].add(c.id);
    }
    replaceKeepingSpare(dirname(this.file), this.file, hostText(1, JSON.stringify({ ...facts, networks: withoutAllocated(facts.networks ?? {}), index: sortedIndex(index) })));
  }

  /** Only under the lock (locked() commits): writes what changed since `data` was loaded or last committed. */
  write(data: StoreData): void {
    if (this.dryRun) return;
    if (!this.lock.held) throw new Error(`the store ${this.file} is written only with its lock held`);
    let s = this.loaded.get(data);
    if (!s) {
      // Data not loaded by locked() (a test's fixture, a read() copy): it replaces what is stored.
      const fresh = this.loadForWrite();
      s = this.loaded.get(fresh)!;
      this.loaded.set(data, s);
    }
    const t = s.table;
    if (data.containers !== t.proxy) {
      // Replaced wholesale (system reset assigns {}): every stored record not in the new map goes.
      const wanted = data.containers;
      t.loadAll();
      for (const id of Object.keys(t.records)) delete t.proxy[id];
      for (const [id, c] of Object.entries(wanted)) t.proxy[id] = c;
      data.containers = t.proxy;
    }
    // Past any generation stored meanwhile (a nested operation of this process may have committed).
    const generation = Math.max(s.generation, generationOf(readHead(this.file)) ?? 0) + 1;
    const c: Commit = { generation, records: {}, links: {}, unlinks: {}, host: '' };
    let changed = false;
    for (const id of t.deleted) {
      if (!t.stored.has(id)) continue;
      c.records[id] = null;
      const name = s.names.get(id) ?? (JSON.parse(t.stored.get(id)!) as ContainerRecord).name;
      c.unlinks[name] = id;
      for (const n of INDEX_NAMES) s.index[n].delete(id);
      changed = true;
    }
    for (const [id, rec] of Object.entries(t.records)) {
      const text = JSON.stringify(rec);
      const before = t.stored.get(id);
      if (text === before) continue;
      c.records[id] = text;
      const oldName = before === undefined ? undefined : s.names.get(id) ?? (JSON.parse(before) as ContainerRecord).name;
      if (oldName !== rec.name) {
        c.links[rec.name] = id;
        if (oldName !== undefined) c.unlinks[oldName] = id;
      }
      for (const n of INDEX_NAMES) {
        if (INDEXES[n](rec)) s.index[n].add(id);
        else s.index[n].delete(id);
      }
      changed = true;
    }
    const allocations: NonNullable<Commit['allocations']> = {};
    for (const net of Object.values(data.networks)) {
      const d = Object.getOwnPropertyDescriptor(net, 'allocated');
      if (!d || d.get) continue; // never read: unchanged
      const change = allocationChange(d.value as Record<string, string>);
      if (change) allocations[net.id] = change;
    }
    for (const id of s.networkIds) if (!data.networks[id]) allocations[id] = null;
    if (Object.keys(allocations).length) {
      c.allocations = allocations;
      changed = true;
    }
    const body = bodyOf(data, s.index);
    // Nothing changed: nothing written (a store never written is, so it exists from the first commit on).
    if (!changed && body === s.body && s.generation > 0) return;
    c.host = hostText(c.generation, body);
    if (changed) {
      publishFromSpare(this.state, commitFile(this.state), JSON.stringify(c));
      this.apply(c);
      retireToSpare(commitFile(this.state));
    } else {
      replaceKeepingSpare(this.state, this.file, c.host);
    }
    // What is stored now is what the next commit compares against.
    for (const [id, text] of Object.entries(c.records)) {
      if (text === null) {
        t.stored.delete(id);
        s.names.delete(id);
      } else {
        t.stored.set(id, text);
        s.names.set(id, t.records[id]!.name);
      }
    }
    t.deleted.clear();
    for (const [id, change] of Object.entries(c.allocations ?? {})) {
      const net = data.networks[id];
      if (change && net) net.allocated = committed(net.allocated, change);
    }
    s.networkIds = new Set(Object.keys(data.networks));
    s.generation = c.generation;
    s.body = body;
  }

  /** Makes the files say what `c` says; safe to repeat (a commit cut short is applied again). */
  private apply(c: Commit): void {
    const state = this.state;
    for (const [name, id] of Object.entries(c.links)) setNameLink(state, name, id);
    for (const [id, text] of Object.entries(c.records)) {
      if (text === null) removeRecycling(state, recordFile(state, id));
      else replaceRecycling(state, recordsDir(state), recordFile(state, id), text);
    }
    for (const [name, id] of Object.entries(c.unlinks)) if (c.links[name] === undefined) dropNameLink(state, name, id);
    for (const [id, change] of Object.entries(c.allocations ?? {})) {
      if (change === null) removeRecycling(state, allocationFile(state, id));
      else if ('replace' in change) replaceRecycling(state, networksDir(state), allocationFile(state, id), change.replace);
      // Appending again what a commit cut short appended is harmless: the lines set and clear, in order.
      else appendTo(networksDir(state), allocationFile(state, id), change.append);
    }
    replaceKeepingSpare(state, this.file, c.host);
  }
}

/** store.json's text after its generation: every fact of `data` but the containers and the networks' address maps. */
function bodyOf(data: StoreData, index: Record<IndexName, Set<string>>): string {
  const { containers, version, ...facts } = data;
  void containers;
  void version;
  return JSON.stringify({ ...facts, networks: withoutAllocated(data.networks), index: sortedIndex(index) });
}

/** Networks as the host document holds them: their `allocated` maps are files of their own. */
function withoutAllocated(networks: Record<string, NetworkRecord>): Record<string, Omit<NetworkRecord, 'allocated'>> {
  const out: Record<string, Omit<NetworkRecord, 'allocated'>> = {};
  for (const [id, net] of Object.entries(networks)) {
    const copy: Partial<NetworkRecord> = {};
    for (const key of Object.keys(net) as Array<keyof NetworkRecord>) {
      // Copied by descriptor: reading `allocated` would load the map.
      if (key !== 'allocated') Object.defineProperty(copy, key, { value: net[key], enumerable: true });
    }
    out[id] = copy as Omit<NetworkRecord, 'allocated'>;
  }
  return out;
}

function sortedIndex(index: Record<IndexName, Set<string>>): Record<IndexName, string[]> {
  return Object.fromEntries(INDEX_NAMES.map((n) => [n, [...index[n]].sort()])) as Record<IndexName, string[]>;
}

export function findNetwork(data: StoreData, ref: string): NetworkRecord | undefined {
  const nets = Object.values(data.networks);
  return (
    nets.find((n) => n.id === ref) ??
    nets.find((n) => n.name === ref) ??
    (ref.length >= 1 ? unique(nets.filter((n) => n.id.startsWith(ref))) : undefined)
  );
}

/** A container by full ID, name (with or without its leading '/'), or unique ID prefix, Docker's order. */
export function findContainer(data: StoreData, ref: string): ContainerRecord | undefined {
  const bare = ref.startsWith('/') ? ref.slice(1) : ref;
  const t = tableOf(data);
  if (!t) {
    const all = Object.values(data.containers);
    return all.find((c) => c.id === ref) ?? all.find((c) => c.name === bare) ?? unique(all.filter((c) => c.id.startsWith(ref)));
  }
  if (isContainerId(ref)) {
    const c = t.load(ref);
    if (c) return c;
  }
  const named = bare ? t.byName(bare) : undefined;
  if (named) return named;
  // A prefix: only hex can match (and the empty ref matches nothing, as an ambiguous prefix of all).
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const ids = t.idsStartingWith(ref);
  return ids.length === 1 ? t.load(ids[0]!) : undefined;
}

/** The container named `name` exactly (no ID, no prefix). */
export function containerNamed(data: StoreData, name: string): ContainerRecord | undefined {
  const t = tableOf(data);
  if (!t) return Object.values(data.containers).find((c) => c.name === name);
  return t.byName(name);
}

function unique<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/** How often every container record was read through `data` (0 for an operation on one container). */
export function fullLoadsOf(data: StoreData): number {
  return tableOf(data)?.fullLoads ?? 0;
}


