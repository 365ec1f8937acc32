// Bridge port flags as the kernel reports them (what `bridge -d link show`
// prints): hairpin, learning, flooding and the STP state of each port, read
// with one rtnetlink dump rather than by starting `bridge`, which cost every
// `inspect` and `system check` a process.
import type { BridgePortInfo, Rtnl } from './rtnl.js';

export type BridgePort = BridgePortInfo;

export function bridgePorts(rtnl: Rtnl): Promise<BridgePort[]> {
  return rtnl.bridgePorts();
}
