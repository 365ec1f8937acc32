// The headings an explanation is grouped under, so a learner sees at a glance
// which part of the picture each command builds: the sandbox, the virtual
// cable into it, its address, its routes, the firewall, the names. A step
// recorded inside Journal.section (the default bridge's one-time setup, say)
// keeps that heading instead.
import type { Op } from '../kernel/ops.js';

/** Heading keys, in the order they usually appear, with the line shown for each. */
export const SECTION_TITLES: Record<string, string> = {
  sandbox: "sandbox: the container's own network namespace",
  network: 'network: the virtual switch containers plug into',
  cable: 'virtual cable: a veth pair from the sandbox to the network',
  address: 'address: the IP the container is known by',
  routes: 'routes: where the sandbox sends what is not on its subnet',
  kernel: "kernel settings: the host's routing switches",
  firewall: "firewall: plumb's chains, as a diff against what the kernel has",
  names: 'names: /etc files, the embedded DNS and how queries reach it',
  tunnel: 'tunnel: the entries that carry frames to other hosts',
  cluster: 'cluster store: what this host claims so no other host takes it',
  files: "files: plumb's own records of the container",
  environment: "environment: variables plumb gives the container's processes (not kernel state: shown, not replayed)",
};

/** The heading key of an op (or the op's own section, when a caller set one). */
export function sectionOf(op: Op): string {
  if (op.section) return op.section;
  switch (op.kind) {
    case 'netns.add':
    case 'netns.del':
    case 'netns.register':
    case 'netns.unregister':
    case 'uts.add':
    case 'uts.del':
      return 'sandbox';
    case 'link.add':
      return op.spec.type === 'bridge' ? 'network' : op.spec.type === 'vxlan' ? 'tunnel' : 'cable';
    case 'link.del':
      return 'cable';
    case 'link.set':
      return op.name === 'lo' ? 'sandbox' : 'cable';
    case 'brport.set':
      return 'cable';
    case 'addr.add':
    case 'addr.del':
      return 'address';
    case 'route.add':
    case 'route.del':
    case 'route.replace':
      return 'routes';
    case 'neigh.replace':
    case 'neigh.del':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.del':
      return 'tunnel';
    case 'sysctl':
      if (op.ns === null) return 'kernel';
      // In a sandbox: IPv6 off belongs to the sandbox; route_localnet lets DNS queries to 127.0.0.11 out.
      return op.key.includes('route_localnet') ? 'names' : 'sandbox';
    case 'iptables':
      // The only rules inside a sandbox send 127.0.0.11:53 to the resolver.
      return op.ns === null ? 'firewall' : 'names';
    case 'file.write':
      return 'names';
    case 'file.remove':
      return 'files';
    case 'note':
      return 'names';
  }
}

/** The heading line for a key (a custom section is shown as it is). */
export function sectionTitle(key: string): string {
  return SECTION_TITLES[key] ?? key;
}

/** The comment line that opens a heading. */
export function headingLine(key: string): string {
  return `# ==== ${sectionTitle(key).replace(/[\r\n]+/g, ' ')} ====`;
}
