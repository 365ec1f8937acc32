// The resolver's sockets inside a sandbox (dns/sandbox-path.ts, 'inside': its
// networks keep it from plumb's namespace, as a macvlan child is kept from its
// parent host): asked for before the sandbox's processes start, given back
// before the sandbox goes.
import { ensureResolver, holdInSandbox, releaseInSandbox, resolverStatus } from '../../dns/service.js';
import { boundSocketInodes, INSIDE_PORT, RESOLVER_IP, resolverPath } from '../../dns/sandbox-path.js';
import { ipv4SocketTablesIn, socketInodesOf } from '../../kernel/sandbox-sockets.js';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';

/** The resolver opens its UDP and TCP sockets on 127.0.0.11:53 in the sandbox, before any process there can ask. */
export async function listenInside(ctx: Context, c: ContainerRecord): Promise<void> {
  ctx.journal.narrate(
    `plumb's resolver listens on ${RESOLVER_IP}:${INSIDE_PORT} (udp+tcp) inside ${c.name}`,
    `${c.name}'s networks cannot reach plumb's namespace (a macvlan child never talks to its parent host), so the resolver opens its sockets in the sandbox's own namespace, as Docker's embedded DNS does; the socket a query comes in on says who asks`,
  );
  if (!ctx.dryRun) await holdInSandbox(ctx.paths, c.id, c.sandbox!.netns!);
}

/** Before a sandbox goes: the resolver closes its sockets there (they would keep the namespace, and its links, alive). */
export async function releaseSandboxDns(ctx: Context, data: StoreData, c: ContainerRecord): Promise<void> {
  if (resolverPath(data, c) !== 'inside') return;
  ctx.journal.narrate(
    `plumb's resolver closes its sockets on ${RESOLVER_IP}:${INSIDE_PORT} inside ${c.name}`,
    `a socket keeps the namespace it was made in alive: the resolver lets go before ${c.name}'s sandbox is deleted`,
  );
  if (!ctx.dryRun) await releaseInSandbox(ctx.paths, c.id);
}

/**
 * Whether the running resolver holds a UDP and a listening TCP socket on
 * 127.0.0.11:53 inside the sandbox, read from the kernel: the sandbox's socket
 * tables and the resolver's open descriptors. Undefined when the sandbox cannot be read.
 */
export function resolverListensInside(ctx: Context, c: ContainerRecord): boolean | undefined {
  const status = resolverStatus(ctx.paths);
  if (!status) return false;
  let tables: { udp: string; tcp: string };
  try {
    tables = ipv4SocketTablesIn(c.sandbox!.netns!);
  } catch {
    return undefined;
  }
  const held = socketInodesOf(status.pid);
  const holds = (proto: 'udp' | 'tcp') => boundSocketInodes(tables[proto], proto, RESOLVER_IP, INSIDE_PORT).some((ino) => held.has(ino));
  return holds('udp') && holds('tcp');
}

/** Has the resolver (started if need be) listen inside the sandbox: the repair for a missing socket. */
export async function restoreListenInside(ctx: Context, c: ContainerRecord): Promise<void> {
  await ensureResolver(ctx.paths);
  await holdInSandbox(ctx.paths, c.id, c.sandbox!.netns!);
}
