// What plumb reads from /proc: which processes live in a network namespace,
// and the socket tables of a namespace. Parsing the tables is pure and lives
// with its user (engine/containers/ports.ts).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { withinNetns, type Netns } from './netns.js';

/** The inode of a bound namespace file (its identity), or undefined when it is gone. */
export function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** PIDs (other than this one) whose network namespace is the one bound at `path`. */
export function processesInNetns(path: string): number[] {
  const ino = nsInode(path);
  if (ino === undefined) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === `net:[${ino}]`) pids.push(Number(entry));
    } catch {
      /* ended meanwhile */
    }
  }
  return pids;
}

export interface SocketTable {
  proto: 'tcp' | 'udp';
  v6: boolean;
  /** The table as /proc/net/{tcp,udp}{,6} prints it. */
  text: string;
}

/**
 * The socket tables of `ns`. /proc/net shows the tables of the namespace of
 * the thread that reads it, hence the namespace window and /proc/thread-self.
 * A kernel without IPv6 has no tcp6/udp6 table: those are left out.
 */
export function readSocketTables(ns: Netns): SocketTable[] {
  return withinNetns(ns, () => {
    const tables: SocketTable[] = [];
    for (const proto of ['tcp', 'udp'] as const) {
      for (const v6 of [false, true]) {
        try {
          tables.push({ proto, v6, text: readFileSync(`/proc/thread-self/net/${proto}${v6 ? '6' : ''}`, 'utf8') });
        } catch {
          continue;
        }
      }
    }
    return tables;
  });
}
