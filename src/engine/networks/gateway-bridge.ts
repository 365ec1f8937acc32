// plumb_gwbridge (Docker's docker_gwbridge): a local bridge network that
// gives containers on overlay networks their way out. Each such container gets
// a second endpoint on it with the default route; the bridge masquerades
// traffic leaving the host, and forbids traffic between its containers (they
// talk over the overlay, never through this bridge).
import { GATEWAY_BRIDGE } from '../../dns/names.js';
import type { NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { buildBridgeNetwork } from '../networks/lifecycle.js';
import type { Transaction } from '../core/transaction.js';

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
