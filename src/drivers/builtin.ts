// host and null: the built-in networks (`host`, `none`). They have no kernel
// objects of their own and exactly one instance each; a sandbox "on" them is
// the host's own namespace, or a namespace with only lo, made by the engine's
// network modes (engine/containers/modes.ts). Connecting a running container
// to them is refused, as Docker refuses it.
import type { DriverName } from '../store/model.js';
import { DriverError } from './errors.js';
import { DRIVER_TRAITS } from './traits.js';
import type { NetworkDriver } from './types.js';

function builtinDriver(name: Extract<DriverName, 'host' | 'null'>, network: string): NetworkDriver {
  const refuse = (): never => {
    throw new DriverError(`network ${network} has no endpoints of its own: use --network ${network} when the container is created`);
  };
  return {
    name,
    ...DRIVER_TRAITS[name],
    configure: () => {
      throw new DriverError(`only one instance of "${name}" network is allowed`);
    },
    createNetwork: async () => {},
    deleteNetwork: async () => {},
    addEndpoint: async () => refuse(),
    removeEndpoint: async () => {},
    joinEndpoint: async () => refuse(),
    leaveEndpoint: async () => {},
    egressThroughGatewayBridge: () => false,
    ownedNamespaces: () => [],
    checkNetwork: async () => [],
    checkEndpoint: async () => [],
    describe: () => ({ nodes: [{ id: `${name}:${network}`, kind: name === 'host' ? 'host' : 'namespace', label: network }], edges: [] }),
  };
}

export const hostDriver = builtinDriver('host', 'host');
export const nullDriver = builtinDriver('null', 'none');
