// The local store: one JSON document, read and written under the store lock,
// replaced atomically (temp file + rename) so a crash never leaves half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreLock } from './lock.js';
import { emptyStore, type ContainerRecord, type NetworkRecord, type StoreData } from './model.js';
import { lockFile, storeFile, type Paths } from './paths.js';

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
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as StoreData;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return emptyStore();
      throw new Error(`the store ${this.file} is unreadable (${(err as Error).message}); run plumb system reset to start over`);
    }
  }

  write(data: StoreData): void {
    if (this.dryRun) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    // Compact: the store is rewritten on every operation, and its size is what costs.
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, this.file);
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
