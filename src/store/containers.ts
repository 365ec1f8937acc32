// The containers of a loaded store: `data.containers` keeps the shape of a
// plain `Record<id, ContainerRecord>`, but each record is its own file and is
// read only when asked for. What loads what:
//
//   data.containers[id], id in data.containers     that one record
//   data.containers[id] = c, delete ...            nothing (recorded for commit)
//   Object.values / keys / entries, for...in       every record (the whole host: ps, check, gc)
//   findContainer(data, ref)                       one record, through the name index
//   containersWhere(data, index)                   the records an index names (see INDEXES)
//
// An operation on one container therefore reads that container and the few an
// index names, never all of them. At commit the store writes exactly the
// records whose text changed (each loaded record is compared with the text it
// was read as), so the caller keeps mutating records in place as before.
import type { ContainerRecord, StoreData } from './model.js';
import { compareCodeUnits } from './order.js';

/**
 * Derived sets kept in the host document so an operation finds the few
 * containers it must consider without reading every record. Each is a
 * predicate over one record; the store recomputes membership of every record
 * it writes, in the same commit.
 */
export const INDEXES = {
  /** Host ports bound (running, published): the firewall's DNAT rules, port conflicts. */
  ports: (c: ContainerRecord) => c.ports.length > 0,
  /** Legacy --link: link rules, /etc/hosts of linkers, link environment. */
  links: (c: ContainerRecord) => c.links.length > 0,
  /** Shares another container's sandbox (--network container:X): whether a sandbox may go. */
  joined: (c: ContainerRecord) => !!c.sandbox?.joined || c.networkMode.startsWith('container:'),
  /** Asked for a --mac-address: the only way two endpoints can get one MAC (others derive it from a unique address). */
  macs: (c: ContainerRecord) => c.networks.some((n) => !!n.mac),
} as const;

export type IndexName = keyof typeof INDEXES;
export const INDEX_NAMES = Object.keys(INDEXES) as IndexName[];

const CONTAINER_ID = /^[0-9a-f]{64}$/;
export const isContainerId = (s: string) => CONTAINER_ID.test(s);

/** Where a table gets records it has not loaded yet (the store's files, seen by one reader). */
export interface RecordSource {
  /** The record's text as stored, or undefined when there is none. */
  text(id: string): string | undefined;
  /** Every stored id. */
  ids(): string[];
  /** The id the name index gives for `name` (not checked against the record). */
  nameLink(name: string): string | undefined;
  /** Ids an index names, as stored. */
  indexed(index: IndexName): readonly string[];
}

/** One loaded store's container records: what was read, as what text, and what was deleted since. */
export class ContainerTable {
  /** Loaded and added records: the proxy's target, so a record is the same object on every access. */
  readonly records: Record<string, ContainerRecord> = {};
  /** Text each record had when read or last committed (absent: added in memory, not stored yet). */
  readonly stored = new Map<string, string>();
  /** Ids deleted in memory since the last commit. */
  readonly deleted = new Set<string>();
  /** Ids known to have no stored record (not looked up again). */
  private readonly missing = new Set<string>();
  private allLoaded = false;
  readonly proxy: Record<string, ContainerRecord>;
  /** How many times every record was read (tests check an operation on one container never does). */
  fullLoads = 0;

  constructor(private readonly source: RecordSource) {
    const self = this;
    this.proxy = new Proxy(this.records, {
      get(target, key, receiver) {
        if (typeof key === 'string' && isContainerId(key)) self.load(key);
        return Reflect.get(target, key, receiver);
      },
      has(target, key) {
        if (typeof key === 'string' && isContainerId(key)) self.load(key);
        return Reflect.has(target, key);
      },
      set(target, key, value) {
        if (typeof key === 'string') {
          self.deleted.delete(key);
          self.missing.delete(key);
        }
        return Reflect.set(target, key, value);
      },
      deleteProperty(target, key) {
        if (typeof key === 'string') {
          // Read first, so the commit knows the record existed and which name link to drop.
          if (isContainerId(key)) self.load(key);
          self.deleted.add(key);
          self.missing.add(key);
        }
        return Reflect.deleteProperty(target, key);
      },
      ownKeys(target) {
        self.loadAll();
        return Reflect.ownKeys(target);
      },
      getOwnPropertyDescriptor(target, key) {
        if (typeof key === 'string' && isContainerId(key)) self.load(key);
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
    });
  }

  /** Reads one record unless it is loaded, deleted or known absent. */
  load(id: string): ContainerRecord | undefined {
    if (Object.prototype.hasOwnProperty.call(this.records, id)) return this.records[id];
    if (this.deleted.has(id) || this.missing.has(id) || this.allLoaded) return undefined;
    for (let attempt = 1; ; attempt++) {
      const text = this.source.text(id);
      if (text === undefined) {
        this.missing.add(id);
        return undefined;
      }
      let rec: ContainerRecord | undefined;
      try {
        rec = JSON.parse(text) as ContainerRecord;
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
      // Torn or another record: a reader without the lock held a file being reused (files.ts); the next open finds the right one.
      if (rec?.id !== id) {
        if (attempt < 3) continue;
        throw new Error(`the store's record of container ${id} is unreadable; run plumb system gc`);
      }
      this.records[id] = rec;
      this.stored.set(id, text);
      return rec;
    }
  }

  loadAll(): void {
    if (this.allLoaded) return;
    this.fullLoads++;
    for (const id of this.source.ids()) this.load(id);
    this.allLoaded = true;
  }

  /** The record named `name`, by the name index; in-memory renames and additions count. */
  byName(name: string): ContainerRecord | undefined {
    const linked = this.source.nameLink(name);
    const viaLink = linked !== undefined && isContainerId(linked) ? this.load(linked) : undefined;
    if (viaLink?.name === name) return viaLink;
    // Added or renamed in this operation, not committed yet: only loaded records can be.
    for (const c of Object.values(this.records)) if (c.name === name) return c;
    return undefined;
  }

  /** Ids starting with `prefix`, stored or added, minus deleted ones. */
  idsStartingWith(prefix: string): string[] {
    const ids = new Set([...(this.allLoaded ? [] : this.source.ids()), ...Object.keys(this.records)]);
    return [...ids].filter((id) => id.startsWith(prefix) && !this.deleted.has(id) && this.load(id));
  }

  /**
   * Records for which the index's predicate holds now: those the stored index
   * names plus every loaded record (it may have changed in memory), each
   * checked against the predicate as it is in memory.
   */
  where(index: IndexName): ContainerRecord[] {
    const ids = new Set([...this.source.indexed(index), ...Object.keys(this.records)]);
    const out: ContainerRecord[] = [];
    for (const id of ids) {
      const c = this.load(id);
      if (c && INDEXES[index](c)) out.push(c);
    }
    return out;
  }

  /** Whether every record is in memory (then nothing unread can be missed). */
  get complete(): boolean {
    return this.allLoaded;
  }
}

/** The table behind data.containers, or undefined for a plain object (a store read whole, a test's fixture). */
const tables = new WeakMap<object, ContainerTable>();
export function registerTable(t: ContainerTable): void {
  tables.set(t.proxy, t);
}
export function tableOf(data: StoreData): ContainerTable | undefined {
  return tables.get(data.containers);
}

/** Oldest first, as the containers were created: the order rules and listings derived from an index keep. */
const byCreation = (a: ContainerRecord, b: ContainerRecord) => compareCodeUnits(a.created, b.created) || compareCodeUnits(a.id, b.id);

/**
 * Containers an index names (see INDEXES): the few an operation on one
 * container must consider. In creation order, whatever order the index file
 * holds them in: the firewall renders their rules in this order, and a full
 * rebuild (gc) must give the rules in the order operations inserted them.
 */
export function containersWhere(data: StoreData, index: IndexName): ContainerRecord[] {
  const t = tableOf(data);
  const found = t ? t.where(index) : Object.values(data.containers).filter(INDEXES[index]);
  return found.sort(byCreation);
}
