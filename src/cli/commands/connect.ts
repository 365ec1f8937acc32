// plumb network connect | disconnect, and the hidden `plumb dns serve` that
// runs the embedded DNS resolver (started by plumb itself when needed).
import type { Command } from 'commander';
import { PlumbError } from '../../engine/core/errors.js';
import { isIpv4 } from '../../net/address.js';
import { openContext } from '../output.js';

export async function connect(network: string, container: string, o: { ip?: string; alias: string[] }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb network connect');
  try {
    if (o.ip !== undefined && !isIpv4(o.ip)) throw new PlumbError(`invalid IPv4 address: ${o.ip} (--ip takes a dotted quad such as 172.18.0.10)`);
    const { connectContainer } = await import('../../engine/networks/connect.js');
    await connectContainer(ctx, { network, container, ip: o.ip, aliases: o.alias });
    return 0;
  } finally {
    ctx.close();
  }
}

export async function disconnect(network: string, container: string, o: { force?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb network disconnect');
  try {
    const { disconnectContainer } = await import('../../engine/networks/connect.js');
    await disconnectContainer(ctx, { network, container, force: !!o.force });
    return 0;
  } finally {
    ctx.close();
  }
}

export async function dnsServe(o: { state: string; run: string; port: string }): Promise<number> {
  const { serveResolver } = await import('../../dns/service.js');
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PlumbError(`invalid port ${o.port}`);
  await serveResolver({ state: o.state, run: o.run, netnsNames: '' }, port);
  // Anything still pending (an upstream query) must not keep a stopped resolver alive.
  process.exit(0);
}
