// Sockets a process holds inside another network namespace: the resolver's
// listeners on 127.0.0.11:53 in sandboxes its queries cannot otherwise reach
// (a macvlan child never talks to its parent host). A socket keeps the
// namespace it was made in for its whole life, wherever its owner runs; this
// module makes such sockets and tells who holds them.
import { readdirSync, readlinkSync } from 'node:fs';
import { native } from './native.js';
import { closeNetns, openNetns, withinNetns } from './netns.js';
import { nsInode, readSocketTables } from './proc.js';

export interface SandboxListeners {
  udp: number;
  tcp: number;
  /** The inode of the namespace they were opened in (its identity while it lives). */
  nsInode: number;
}

/**
 * A UDP socket and a listening TCP socket bound to ip:port inside the
 * namespace bound at `nsPath`: their descriptors, for dgram / net to adopt.
 * Nothing is left open when either fails.
 */
export function openListenersIn(nsPath: string, ip: string, port: number): SandboxListeners {
  const ino = nsInode(nsPath);
  const ns = openNetns(nsPath);
  try {
    return withinNetns(ns, () => {
      const udp = native().inetSocket('udp', ip, port);
      try {
        return { udp, tcp: native().inetSocket('tcp', ip, port), nsInode: ino ?? 0 };
      } catch (err) {
        native().closeFd(udp);
        throw err;
      }
    });
  } finally {
    closeNetns(ns);
  }
}

/** Closes a descriptor openListenersIn gave that was never adopted. */
export function closeDescriptor(fd: number): void {
  native().closeFd(fd);
}

/** Inodes of the sockets process `pid` holds open (its /proc/PID/fd); empty when it is gone. */
export function socketInodesOf(pid: number): Set<number> {
  const out = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** The raw /proc/net/{udp,tcp} tables of the namespace bound at `nsPath` (IPv4 only). */
export function ipv4SocketTablesIn(nsPath: string): { udp: string; tcp: string } {
  const ns = openNetns(nsPath);
  try {
    const tables = readSocketTables(ns).filter((t) => !t.v6);
    return { udp: tables.find((t) => t.proto === 'udp')?.text ?? '', tcp: tables.find((t) => t.proto === 'tcp')?.text ?? '' };
  } finally {
    closeNetns(ns);
  }
}
