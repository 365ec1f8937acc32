// Sandboxes and the containers in them: one box per network namespace, with
// every container that lives in it (`--network container:X` puts a second
// container in X's box). Host-mode containers sit in the host's own stack;
// none-mode sandboxes have only lo. Interfaces the kernel shows in a sandbox
// that no endpoint explains are drawn too, as drift.
import { findContainer } from '../store/store.js';
import { ownsSandbox, sandboxMembers, sandboxOwner, sortedContainers, type Describe } from './common.js';
import { edge, ids, node, type Fragment } from './model.js';

export function describeSandboxes(d: Describe): Fragment {
  const f: Fragment = { nodes: [], edges: [] };
  const containers = sortedContainers(d.data);
  for (const owner of containers.filter(ownsSandbox)) {
    const view = d.kernel.sandboxes[owner.name];
    const members = sandboxMembers(d.data, owner);
    const nets = Object.keys(owner.endpoints)
      .map((id) => d.data.networks[id]?.name)
      .filter((n): n is string => !!n)
      .sort();
    const boxId = ids.sandbox(owner.name);
    f.nodes.push(
      node(boxId, 'sandbox', owner.name, {
        details: [`ip netns exec ${owner.name}`, ...(owner.networkMode === 'none' ? ['only lo: no network'] : [])],
        networks: nets,
        containers: members,
        attrs: { netns: owner.name, mode: owner.networkMode, members: members.join(' ') },
        absent: !view,
      }),
    );
    const known = new Set(Object.values(owner.endpoints).map((e) => e.ifname));
    for (const l of view?.links ?? []) {
      if (l.name === 'lo' || known.has(l.name)) continue;
      f.nodes.push(
        node(ids.iface(owner.name, l.name), 'iface', l.name, {
          parent: boxId,
          details: [l.kind ?? 'link'],
          networks: [],
          containers: members,
          attrs: { kind: l.kind ?? '' },
          drift: [`${l.name} is in the sandbox but belongs to no endpoint`],
        }),
      );
    }
  }
  for (const c of containers.filter((x) => x.state === 'running')) {
    const owner = sandboxOwner(d.data, c);
    const parent = c.networkMode === 'host' ? ids.host() : owner && ownsSandbox(owner) ? ids.sandbox(owner.name) : undefined;
    const shared = owner && owner !== c ? [`shares ${owner.name}'s network stack`] : [];
    f.nodes.push(
      node(ids.container(c.name), 'container', c.name, {
        parent,
        details: [c.image, ...(c.networkMode === 'host' ? ['in the host network stack'] : []), ...shared].filter(Boolean),
        networks: owner ? Object.keys(owner.endpoints).map((id) => d.data.networks[id]?.name ?? id) : [],
        containers: [c.name, ...(owner && owner !== c ? [owner.name] : [])],
        attrs: { mode: `--network ${c.networkMode}`, image: c.image, ...(owner && owner !== c ? { sharesWith: owner.name } : {}) },
      }),
    );
    for (const l of c.links) {
      const target = findContainer(d.data, l.target);
      if (!target || target.state !== 'running') continue;
      f.edges.push(
        edge('link', ids.container(c.name), ids.container(target.name), {
          label: `--link ${target.name}:${l.alias}`,
        }),
      );
    }
  }
  return f;
}
