// Bridge port flags as the kernel reports them (`bridge -d link show`):
// hairpin, learning, flooding and the STP state of each port.
import { runIn } from './programs.js';
import type { Netns } from './netns.js';
import { KernelError } from './errors.js';

export interface BridgePort {
  ifname: string;
  master?: string;
  /** STP port state: forwarding, disabled, blocking, ... */
  state?: string;
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  isolated: boolean;
}

export async function bridgePorts(ns: Netns): Promise<BridgePort[]> {
  const r = await runIn(ns, ['bridge', '-j', '-d', 'link', 'show'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new KernelError(`bridge -d link show: ${r.stderr.trim() || `exit ${r.code}`}`, 'EIO', 5);
  const rows = JSON.parse(r.stdout || '[]') as Array<Record<string, unknown>>;
  return rows.map((p) => ({
    ifname: String(p.ifname),
    master: typeof p.master === 'string' ? p.master : undefined,
    state: typeof p.state === 'string' ? p.state : undefined,
    hairpin: p.hairpin === true,
    learning: p.learning !== false,
    flood: p.flood !== false,
    isolated: p.isolated === true,
  }));
}
