// `plumb rename OLD NEW`: a container's name is how the embedded DNS, legacy
// links and `ip netns` know it, so all three follow the new name at once.
// The hostname stays (Docker keeps it too: it is the short ID unless -h set it).
import { existsSync } from 'node:fs';
import { registerNetns, unregisterNetns } from '../../kernel/netns.js';
import { containerNamed, containersWhere, findContainer } from '../../store/store.js';
import type { Context } from '../core/context.js';
import { refreshLinkers } from './etc-sync.js';
import { PlumbError } from '../core/errors.js';
import { sandboxPaths } from './sandbox.js';

const NAME_RULE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export async function renameContainer(ctx: Context, ref: string, wanted: string): Promise<void> {
  const name = wanted.replace(/^\//, '');
  if (!NAME_RULE.test(wanted)) throw new PlumbError(`Invalid container name (${wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  await ctx.store.locked(async (data, commit) => {
    const c = findContainer(data, ref);
    if (!c) throw new PlumbError(`No such container: ${ref}`);
    if (c.name === name) throw new PlumbError('Renaming a container with the same name as its current name');
    const other = containerNamed(data, name);
    if (other) {
      throw new PlumbError(
        `Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    const before = sandboxPaths(ctx, c);
    const old = c.name;
    c.name = name;
    // The ip netns name follows: the new one is added before the old one goes, so a failure leaves the old one.
    // Both are recorded steps, so --explain and --dry-run show them.
    if (c.sandbox?.netns && !c.sandbox.joined && existsSync(before.alias)) {
      try {
        registerNetns(ctx.journal, name, c.sandbox.netns, ctx.paths.netnsNames, name, `the sandbox is now listed by ip netns as ${name}`);
      } catch (err) {
        c.name = old;
        throw err;
      }
      unregisterNetns(ctx.journal, old, ctx.paths.netnsNames, old, `${old} is no longer the container's name`);
    }
    // Legacy links name their target: they keep pointing at this container, and its linkers' /etc/hosts show the new name.
    for (const o of containersWhere(data, 'links')) for (const l of o.links) if (l.target === old) l.target = name;
    commit();
    refreshLinkers(ctx, data, c);
  });
}
