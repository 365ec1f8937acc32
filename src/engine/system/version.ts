// What `plumb version` reports about the host: the kernel that does the work
// and the firewall backend iptables talks to. plumb has no daemon, so these
// stand where `docker version` shows its server.
import { release } from 'node:os';
import { iptablesVersion } from '../../kernel/iptables.js';

/** The Docker Engine API version whose behaviour plumb follows (Docker 20.10). */
export const DOCKER_API_VERSION = '1.41';

export interface HostVersions {
  kernel: string;
  /** e.g. "v1.8.9 (nf_tables)", or "missing". */
  iptables: string;
}

export async function hostVersions(): Promise<HostVersions> {
  const ipt = await iptablesVersion();
  return { kernel: release(), iptables: ipt ? ipt.replace(/^iptables\s+/, '') : 'missing' };
}
