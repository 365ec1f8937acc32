// One read of the kernel for the picture: links, addresses and routes of the
// host, of every sandbox plumb knows, and of every overlay namespace on this
// host; the host's rules; each sandbox's nat table when it uses the embedded
// DNS. Nothing here changes anything.
import { existsSync } from 'node:fs';
import { saveIptables } from '../kernel/iptables.js';
import type { Netns } from '../kernel/netns.js';
import type { Rtnl } from '../kernel/rtnl.js';
import type { StoreData } from '../store/model.js';
import { byDriver, ownsSandbox, sortedContainers, sortedNetworks } from './common.js';
import type { KernelView, NsView, OverlayNsView, SandboxView } from './view.js';

/** The kernel handles a read needs (the engine's Context has them). */
export interface KernelAccess {
  hostNs(): Netns;
  hostRtnl(): Rtnl;
  openNs(path: string, name: string): Netns;
  rtnlIn(ns: Netns): Rtnl;
}

async function readNs(rtnl: Rtnl): Promise<NsView> {
  const [links, addrs, routes] = [await rtnl.links(), await rtnl.addresses(), await rtnl.routes()];
  return { links, addrs, routes };
}

export async function readKernel(k: KernelAccess, data: StoreData): Promise<KernelView> {
  const host = await readNs(k.hostRtnl());
  const sandboxes: Record<string, SandboxView> = {};
  const natReads: Array<Promise<void>> = [];
  for (const c of sortedContainers(data).filter(ownsSandbox)) {
    const file = c.sandbox!.netns!;
    if (!existsSync(file)) continue;
    const ns = k.openNs(file, c.name);
    const view: SandboxView = await readNs(k.rtnlIn(ns));
    sandboxes[c.name] = view;
    // One iptables-save process per sandbox: started together, not one after the other.
    if (c.embeddedDns) natReads.push(saveIptables(ns, 'nat').then((t) => void (view.nat = t), () => void (view.nat = '')));
  }
  await Promise.all(natReads);
  const overlays: Record<string, OverlayNsView> = {};
  for (const net of sortedNetworks(data).filter((n) => n.scope === 'global')) {
    const place = byDriver({ overlay: (n) => n.overlaySandbox }, net);
    if (!place || !existsSync(place.netns)) continue;
    const rtnl = k.rtnlIn(k.openNs(place.netns, place.alias));
    overlays[net.name] = { ...(await readNs(rtnl)), fdb: await rtnl.fdb(), neigh: await rtnl.neighbours() };
  }
  const firewall = await saveIptables(k.hostNs()).catch(() => '');
  return { host, sandboxes, overlays, firewall };
}
