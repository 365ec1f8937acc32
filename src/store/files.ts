// The store's files and the two ways they are replaced. Every file is
// replaced by rename, never rewritten where a reader may have it open, so a
// reader that opens a file by name always gets one whole version.
//
//   STATE/store.json         host document: networks, host-wide facts, the indexes, a generation
//   STATE/records/ID.json    one container each
//   STATE/networks/ID.allocated  a network's addresses handed out, appended to (allocations.ts)
//   STATE/names/NAME         the name index: a file holding the ID
//   STATE/free/              files given up, written over when a file is next needed (below)
//   STATE/store.commit       a commit being applied (see store.ts)
//
// store.json and store.commit reuse a spare file instead of a new temporary
// each time (creating a file costs more than writing one on the ext4 plumb is
// measured on): the version a write replaces is kept as FILE.spare and
// overwritten by the next write. A reader that held such a file open across
// two writes may see it rewritten: readers retry on a torn (unparsable) text.
// Records and name entries are written to a pooled file and renamed into
// place, so a reader opening them by name gets a whole version too.
import { appendFileSync, chmodSync, closeSync, constants, ftruncateSync, linkSync, opendirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../kernel/private.js';

export const hostFile = (state: string) => join(state, 'store.json');
export const commitFile = (state: string) => join(state, 'store.commit');
export const recordsDir = (state: string) => join(state, 'records');
export const namesDir = (state: string) => join(state, 'names');
export const freeDir = (state: string) => join(state, 'free');
export const networksDir = (state: string) => join(state, 'networks');
export const allocationFile = (state: string, networkId: string) => join(networksDir(state), `${networkId}.allocated`);
export const recordFile = (state: string, id: string) => join(recordsDir(state), `${id}.json`);

const RECORD_FILE = /^([0-9a-f]{64})\.json$/;
/** File names are at most 255 bytes: a longer container name is indexed by its hash ('=' never starts a name). */
const LONGEST_NAME_FILE = 200;

/**
 * node:crypto is loaded by the first name long enough to need hashing, not
 * with the store: loading it cost every plumb process ~5 ms, and almost no
 * name is that long.
 */
function sha256Hex(text: string): string {
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}

export function nameFile(state: string, name: string): string {
  const file = name.length <= LONGEST_NAME_FILE ? name : `=${sha256Hex(name)}`;
  return join(namesDir(state), file);
}

const code = (err: unknown) => (err as { code?: string })?.code;

/** The file's text, or undefined when it does not exist. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The first bytes of a file (the host document starts with its generation), or undefined when it does not exist. */
export function readHead(file: string, bytes = 64): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Runs `write`; when its directory is missing, makes it (root-only) and runs it again. */
function inDir<T>(dir: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
    ensurePrivateDir(dir);
    return write();
  }
}

/**
 * Writes `text` over an existing file from its first byte, then cuts it to
 * length (or creates it). Not O_TRUNC: on ext4, a file truncated to zero and
 * written again is flushed on close (the replace-by-truncate heuristic),
 * which cost 3 ms a write where this costs 0.1 ms. Only for files no reader
 * opens by name (a spare, a pooled file): they are renamed into place after.
 */
function writeOver(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
  }
  try {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, off);
    ftruncateSync(fd, buf.length);
  } finally {
    closeSync(fd);
  }
}

/** link(2) that replaces a leftover `to` (of a write cut short); false when `from` does not exist. */
function linkOver(from: string, to: string): boolean {
  for (;;) {
    try {
      linkSync(from, to);
      return true;
    } catch (err) {
      if (code(err) === 'ENOENT') return false;
      if (code(err) !== 'EEXIST') throw err;
      unlinkSync(to);
    }
  }
}

/** Replaces `file` by rename, writing the new version into FILE.spare (the version replaced becomes the next spare). */
export function replaceKeepingSpare(dir: string, file: string, text: string): void {
  const spare = `${file}.spare`;
  const old = `${file}.old`;
  inDir(dir, () => writeOver(spare, text));
  // A spare made by an older plumb may be 0644: the mode above applies only to a new file.
  chmodSync(spare, PRIVATE_FILE_MODE);
  // A second name for the version being replaced, so it survives the rename as the next spare.
  const kept = linkOver(file, old);
  renameSync(spare, file);
  if (kept) renameSync(old, spare);
}

/** Makes `file` appear with `text` (a pending commit): written as the spare, then renamed into place. */
export function publishFromSpare(dir: string, file: string, text: string): void {
  const spare = `${file}.spare`;
  inDir(dir, () => writeOver(spare, text));
  renameSync(spare, file);
}

/** Takes `file` away, keeping its inode as the spare for the next publishFromSpare. */
export function retireToSpare(file: string): void {
  try {
    renameSync(file, `${file}.spare`);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/**
 * Records and name entries come and go with containers. Creating and
 * unlinking a file are each a journalled inode change (1.5-2 ms apiece on the
 * loaded ext4 plumb is measured on, against 0.05 ms for a rename), so a file
 * given up is not unlinked but renamed into STATE/free/, and the next file
 * needed is taken from there and written over: in steady state a container
 * costs renames and in-place writes only.
 */
let pooled = 0;
const poolName = (state: string) => join(freeDir(state), `${process.pid}-${Date.now().toString(36)}-${pooled++}`);

const pools = new Set<string>();
function ensurePool(state: string): void {
  if (pools.has(state)) return;
  ensurePrivateDir(freeDir(state));
  pools.add(state);
}

/** Moves `file` into the pool (false when it does not exist). */
function giveToPool(state: string, file: string): boolean {
  ensurePool(state);
  try {
    renameSync(file, poolName(state));
    return true;
  } catch (err) {
    if (code(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Puts a pooled file (or a new one) at `to`, which must not be a name readers open. */
function takeFromPool(state: string, to: string): void {
  let dir: ReturnType<typeof opendirSync> | undefined;
  try {
    dir = opendirSync(freeDir(state));
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
  try {
    for (let e = dir?.readSync(); e; e = dir!.readSync()) {
      try {
        renameSync(join(freeDir(state), e.name), to);
        return;
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
    }
  } finally {
    dir?.closeSync();
  }
}

/** Replaces `file` with `text`, through a pooled file; the version replaced goes to the pool. */
export function replaceRecycling(state: string, dir: string, file: string, text: string): void {
  // '.' starts no record file and no container name: the temporary cannot be another entry.
  const tmp = join(dirname(file), `.tmp-${basename(file)}`);
  ensurePool(state);
  takeFromPool(state, tmp);
  inDir(dir, () => writeOver(tmp, text));
  // The version replaced keeps a name in the pool, so the rename does not free its inode.
  linkOver(file, poolName(state));
  renameSync(tmp, file);
}

/** Removes `file` into the pool. */
export function removeRecycling(state: string, file: string): void {
  giveToPool(state, file);
}

/** Appends `text` to `file` (made if missing). */
export function appendTo(dir: string, file: string, text: string): void {
  inDir(dir, () => appendFileSync(file, text, { mode: PRIVATE_FILE_MODE }));
}

export function removeIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/** Ids of every stored record. */
export function storedIds(state: string): string[] {
  let names: string[];
  try {
    names = readdirSync(recordsDir(state));
  } catch (err) {
    if (code(err) === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const n of names) {
    const m = RECORD_FILE.exec(n);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** The id `name` is indexed under, or undefined. */
export function readNameLink(state: string, name: string): string | undefined {
  try {
    return readFileSync(nameFile(state, name), 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENAMETOOLONG') return undefined;
    throw err;
  }
}

/** Indexes `name` under `id`, replacing whatever it was indexed under (a reader sees the old entry or the new). */
export function setNameLink(state: string, name: string, id: string): void {
  if (readNameLink(state, name) === id) return;
  replaceRecycling(state, namesDir(state), nameFile(state, name), id);
}

/** Drops `name`'s entry if it is still `id`'s (another container may hold the name by now). */
export function dropNameLink(state: string, name: string, id: string): void {
  if (readNameLink(state, name) === id) removeRecycling(state, nameFile(state, name));
}
