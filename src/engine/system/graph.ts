// What `plumb graph` draws: one read of the kernel, the store for names, the
// cluster store for overlay peers, and `system check`'s findings as drift.
import { hostname } from 'node:os';
import { resolverStatus } from '../../dns/service.js';
import { resolverPath } from '../../dns/sandbox-path.js';
import { resolverListensInside } from '../networks/resolver-sockets.js';
import { buildTopology } from '../../topology/build.js';
import type { Topology } from '../../topology/model.js';
import { readKernel } from '../../topology/read.js';
import type { ClusterView } from '../../topology/view.js';
import type { StoreData } from '../../store/model.js';
import { findProblems } from './check.js';
import type { Context } from '../core/context.js';

/** The cluster's view for overlay networks; none when there is no overlay or the store cannot be reached (the picture then lacks peers). */
async function readCluster(ctx: Context, data: StoreData): Promise<ClusterView | undefined> {
  if (!Object.values(data.networks).some((n) => n.scope === 'global')) return undefined;
  try {
    const { withCluster } = await import('../overlay/cluster.js');
    return await withCluster(ctx, async (c) => ({ node: c.config.nodeName, vtep: c.vtep, endpoints: (await c.store.snapshot()).endpoints }), { timeoutMs: 5000 });
  } catch {
    return undefined;
  }
}

export async function gatherTopology(ctx: Context): Promise<Topology> {
  const data = ctx.store.read();
  const kernel = await readKernel(ctx, data);
  for (const c of Object.values(data.containers)) {
    const view = kernel.sandboxes[c.name];
    if (view && c.state === 'running' && resolverPath(data, c) === 'inside') view.resolverInside = resolverListensInside(ctx, c) === true;
  }
  const findings = await findProblems(ctx, data);
  const cluster = await readCluster(ctx, data);
  const resolver = resolverStatus(ctx.paths);
  return buildTopology({
    hostName: cluster?.node ?? hostname(),
    data,
    kernel,
    cluster,
    resolver: resolver ? { pid: resolver.pid, port: resolver.port } : undefined,
    drift: findings.map((f) => ({ owner: f.owner, problem: f.problem })),
  });
}
