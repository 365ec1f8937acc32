// The local store: one JSON document, read and written under the store lock,
// replaced atomically (temp file + rename) so a crash never leaves half a file.
//
// The temporary file is not a new file each time: the version replaced by a
// write is kept (as store.json.spare) and overwritten by the next write. On
// the ext4 plumb is measured on, creating a file costs more than writing the
// whole store. Readers without the lock (the DNS server, read-only commands)
// open store.json by name and so always get a whole version; only a reader
// that held the file open across two writes could see the spare being
// rewritten, and read() then reads again.
import { chmodSync, linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir, isPermissionError, PRIVATE_FILE_MODE, rootOnly } from '../kernel/private.js';
import { dirname } from 'node:path';
import { StoreLock } from '../kernel/lock.js';
import { emptyStore, type ContainerRecord, type NetworkRecord, type StoreData } from './model.js';
import { lockFile, storeFile, type Paths } from './paths.js';

/** How often read() tries before it calls the store unreadable. */
const READ_ATTEMPTS = 3;

/** link(2) that replaces a leftover `to` (of a write cut short); false when `from` does not exist. */
function linkOver(from: string, to: string): boolean {
  for (;;) {
    try {
      linkSync(from, to);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EEXIST') throw err;
      unlinkSync(to);
    }
  }
}

export class Store {
  private readonly lock: StoreLock;
  private readonly file: string;

  /** With dryRun, nothing is ever written: a --dry-run shows changes and keeps the store as it was. */
  constructor(
    readonly paths: Paths,
    private readonly dryRun = false,
  ) {
    this.lock = new StoreLock(lockFile(paths));
    this.file = storeFile(paths);
  }

  read(): StoreData {
    for (let attempt = 1; ; attempt++) {
      try {
        return JSON.parse(readFileSync(this.file, 'utf8')) as StoreData;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return emptyStore();
        if (isPermissionError(err)) throw rootOnly(this.file);
        // A torn read of a version being recycled as the spare (see above): the next open finds a whole one.
        if (err instanceof SyntaxError && attempt < READ_ATTEMPTS) continue;
        throw new Error(`the store ${this.file} is unreadable (${(err as Error).message}); run plumb system reset to start over`);
      }
    }
  }

  /** Only under the lock (locked() commits): the spare and old names are shared by all writers. */
  write(data: StoreData): void {
    if (this.dryRun) return;
    if (!this.lock.held) throw new Error(`the store ${this.file} is written only with its lock held`);
    ensurePrivateDir(dirname(this.file));
    const spare = `${this.file}.spare`;
    const old = `${this.file}.old`;
    // Compact: the store is rewritten on every operation, and its size is what costs.
    writeFileSync(spare, JSON.stringify(data), { mode: PRIVATE_FILE_MODE });
    // A spare made by an older plumb may be 0644: the mode above applies only to a new file.
    chmodSync(spare, PRIVATE_FILE_MODE);
    // A second name for the version being replaced, so it survives the rename as the next spare.
    const kept = linkOver(this.file, old);
    renameSync(spare, this.file);
    if (kept) renameSync(old, spare);
  }

  /**
   * Runs `fn` with the lock held and the store loaded; `fn` mutates the data in
   * place and saves with `commit()` (it may commit several times, e.g. to record
   * an intent before touching the kernel). The lock is released whatever happens.
   */
  async locked<T>(fn: (data: StoreData, commit: () => void) => Promise<T>): Promise<T> {
    return this.exclusive(() => {
      const data = this.read();
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
}

export function findNetwork(data: StoreData, ref: string): NetworkRecord | undefined {
  const nets = Object.values(data.networks);
  return (
    nets.find((n) => n.id === ref) ??
    nets.find((n) => n.name === ref) ??
    (ref.length >= 1 ? unique(nets.filter((n) => n.id.startsWith(ref))) : undefined)
  );
}

export function findContainer(data: StoreData, ref: string): ContainerRecord | undefined {
  const all = Object.values(data.containers);
  const bare = ref.startsWith('/') ? ref.slice(1) : ref;
  return all.find((c) => c.id === ref) ?? all.find((c) => c.name === bare) ?? unique(all.filter((c) => c.id.startsWith(ref)));
}

function unique<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
