// Kernel parameters under /proc/sys. Everything below /proc/sys/net belongs to
// the network namespace of the task that opens the file, so reads and writes
// happen inside a (synchronous) namespace window: enter, open, write, leave.
//
// Keys are written the way sysctl(8) takes them. Dotted form
// (`net.ipv4.conf.eth0.forwarding`) uses '.' as the separator; an interface
// whose name contains a dot (a VLAN such as `eth0.100`) is then written with
// '/' in place of that dot: `net.ipv4.conf.eth0/100.forwarding`. Slash form
// (`net/ipv4/conf/eth0.100/forwarding`) is taken literally. The rule, as in
// sysctl(8): when the first separator in the key is '.', every '.' becomes '/'
// and every '/' becomes '.'; when it is '/', the key is already a path.
import { closeSync, openSync, readFileSync, writeSync, constants as fsc } from 'node:fs';
import type { Journal } from './ops.js';
import type { Netns } from './netns.js';
import { withinNetns } from './netns.js';
import { KernelError } from './errors.js';

export const SYSCTL_ROOT = '/proc/sys';

/** The path below /proc/sys for a sysctl(8)-style key (no leading /proc/sys). */
export function sysctlRelPath(key: string): string {
  const first = key.search(/[./]/);
  let rel: string;
  if (first === -1 || key[first] === '/') {
    rel = key;
  } else {
    rel = key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  }
  const parts = rel.split('/');
  if (key.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new KernelError(`invalid sysctl key ${JSON.stringify(key)}`, 'EINVAL', 22);
  }
  return rel;
}

/** The /proc/sys file behind a key: `net.ipv4.conf.eth0/100.rp_filter` -> /proc/sys/net/ipv4/conf/eth0.100/rp_filter. */
export function sysctlPath(key: string): string {
  return `${SYSCTL_ROOT}/${sysctlRelPath(key)}`;
}

/**
 * The dotted key for a per-interface setting, escaping dots in the interface
 * name the way sysctl(8) expects: ifaceSysctlKey('ipv4', 'eth0.100', 'forwarding')
 * is `net.ipv4.conf.eth0/100.forwarding`.
 */
export function ifaceSysctlKey(family: 'ipv4' | 'ipv6', iface: string, leaf: string, table: 'conf' | 'neigh' = 'conf'): string {
  return `net.${family}.${table}.${iface.replace(/\./g, '/')}.${leaf}`;
}

/** Writes one sysctl inside `ns`. Recorded as an op, so --explain/--dry-run show it. */
export function setSysctl(journal: Journal, ns: Netns, key: string, value: string, why?: string): void {
  const path = sysctlPath(key);
  journal.runSync({ kind: 'sysctl', ns: ns.name, key, value, why }, () => {
    withinNetns(ns, () => {
      let fd: number;
      try {
        fd = openSync(path, fsc.O_WRONLY);
      } catch (err) {
        throw KernelError.from(err, `sysctl ${key}${ns.name ? ` in ${ns.name}` : ''}`);
      }
      try {
        writeSync(fd, value.endsWith('\n') ? value : `${value}\n`);
      } catch (err) {
        throw KernelError.from(err, `sysctl -w ${key}=${value}${ns.name ? ` in ${ns.name}` : ''}`);
      } finally {
        closeSync(fd);
      }
    });
  });
}

/** Reads one sysctl inside `ns`, without the trailing newline; undefined when the key does not exist there. */
export function readSysctl(ns: Netns, key: string): string | undefined {
  const path = sysctlPath(key);
  return withinNetns(ns, () => {
    try {
      return readFileSync(path, 'utf8').replace(/\n$/, '');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw KernelError.from(err, `read sysctl ${key}${ns.name ? ` in ${ns.name}` : ''}`);
    }
  });
}
