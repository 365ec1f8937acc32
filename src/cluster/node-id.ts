// This host's node ID: 32 random bytes in hex, made the first time the host
// needs one and kept in <state>/node-id, like dockerd's engine ID. It is what
// makes a host unique in the cluster store; the hostname is only its display
// name. `system reset` keeps the file, so a host stays the same node across
// resets and its registration in the store stays valid.
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFullId, randomId, type RandomBytes } from '../ipam/ids.js';
import type { Paths } from '../store/paths.js';

export const NODE_ID_FILE = 'node-id';

export const nodeIdFile = (paths: Paths) => join(paths.state, NODE_ID_FILE);

/** The node ID kept in the state dir, or undefined when there is none yet (or the file is not one). */
export function readNodeId(paths: Paths): string | undefined {
  try {
    const text = readFileSync(nodeIdFile(paths), 'utf8').trim();
    return isFullId(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The node ID, made and kept on first use. Two commands making one at once
 * agree: each writes a private file and links it into place, and the loser of
 * the link reads the winner's.
 */
export function ensureNodeId(paths: Paths, random: RandomBytes): string {
  const existing = readNodeId(paths);
  if (existing) return existing;
  const file = nodeIdFile(paths);
  mkdirSync(paths.state, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${randomId(random)}\n`, { mode: 0o644 });
  try {
    // A file that is there but holds no ID (truncated, edited) is replaced.
    if (readNodeId(paths) === undefined) rmSync(file, { force: true });
    linkSync(tmp, file);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  const id = readNodeId(paths);
  if (!id) throw new Error(`cannot keep this host's node ID in ${file}`);
  return id;
}
