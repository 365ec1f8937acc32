// Host ports a container publishes: which are asked for, which are free.
// The kernel side (DNAT and friends) is rendered by the firewall from the
// bindings recorded here.
import type { ContainerRecord, PortBinding, StoreData } from '../store/model.js';
import { PlumbError } from './errors.js';

function clashes(a: PortBinding, proto: string, hostIp: string, hostPort: number): boolean {
  return a.proto === proto && a.hostPort === hostPort && (a.hostIp === hostIp || a.hostIp === '0.0.0.0' || hostIp === '0.0.0.0');
}

/** Binds every -p of `c` to concrete host ports, refusing ones other running containers hold. */
export function bindPorts(data: StoreData, c: ContainerRecord, defaultHostIp: string): PortBinding[] {
  const taken = Object.values(data.containers)
    .filter((o) => o.id !== c.id && o.state === 'running')
    .flatMap((o) => o.ports);
  const bound: PortBinding[] = [];
  for (const p of c.publish) {
    if (p.hostPortStart === 0) throw new PlumbError('publishing to a random host port is not supported yet in this version of plumb', 125);
    const hostIp = p.hostIp || defaultHostIp;
    const count = p.hostPortEnd - p.hostPortStart + 1;
    for (let i = 0; i < count; i++) {
      const hostPort = p.hostPortStart + i;
      if ([...taken, ...bound].some((b) => clashes(b, p.proto, hostIp, hostPort))) {
        throw new PlumbError(
          `driver failed programming external connectivity on endpoint ${c.name}: Bind for ${hostIp}:${hostPort} failed: port is already allocated`,
          125,
        );
      }
      bound.push({ proto: p.proto, containerPort: p.containerPort, hostIp, hostPort });
    }
  }
  return bound;
}
