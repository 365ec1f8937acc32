// plumb_gwbridge (Docker's docker_gwbridge): a local bridge network that
// gives containers on overlay networks (any driver whose
// egressThroughGatewayBridge says so) their way out. Each such container gets
// a second endpoint on it with the default route; the bridge masquerades
// traffic leaving the host, and forbids traffic between its containers (they
// talk over the overlay, never through this bridge).
import { GATEWAY_BRIDGE } from '../../dns/names.js';
import { ONE_TIME_SETUP } from '../../kernel/ops.js';
import type { EndpointRecord, NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { buildBridgeNetwork } from './lifecycle.js';
import type { Transaction } from '../core/transaction.js';
import { syncFirewall } from '../firewall/sync.js';

/** Named where the embedded DNS can see it too: it must not scope names (dns/names.ts). */
export const GWBRIDGE = GATEWAY_BRIDGE;

export async function createGatewayBridge(ctx: Context, data: StoreData, tx: Transaction): Promise<NetworkRecord> {
  const net = await buildBridgeNetwork(
    ctx,
    data,
    {
      name: GWBRIDGE,
      driver: 'bridge',
      aux: {},
      internal: false,
      attachable: false,
      labels: {},
      options: {
        'com.docker.network.bridge.name': GWBRIDGE,
        'com.docker.network.bridge.enable_icc': 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    },
    tx,
    false,
  );
  data.networks[net.id] = net;
  tx.onRollback(`${GWBRIDGE} record`, () => {
    delete data.networks[net.id];
  });
  return net;
}

/** Attaches the sandbox to plumb_gwbridge (made, with its firewall rules, on first use) through `attach`. */
export async function joinGatewayBridge(
  ctx: Context,
  data: StoreData,
  tx: Transaction,
  attach: (gw: NetworkRecord) => Promise<EndpointRecord>,
): Promise<EndpointRecord> {
  let gw = Object.values(data.networks).find((n) => n.name === GWBRIDGE);
  if (!gw) {
    // Made once per host, like the default bridge: under its own heading.
    gw = await ctx.journal.section(`${ONE_TIME_SETUP}: ${GWBRIDGE}, the way out for this host's overlay containers`, async () => {
      const made = await createGatewayBridge(ctx, data, tx);
      await syncFirewall(ctx, data, tx, `add the firewall rules of ${GWBRIDGE}: no traffic between containers, masquerade on the way out`);
      return made;
    });
  }
  return attach(gw);
}
