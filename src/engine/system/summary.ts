// The store in numbers, for `plumb system info`, in the shape of `docker info`:
// containers by state (Docker's Running / Paused / Stopped) and networks by
// driver. Pure: the caller passes containers as they are now (liveContainer).
import type { ContainerRecord } from '../../store/model.js';

export interface StoreSummary {
  containers: { total: number; running: number; paused: number; stopped: number };
  /** Networks by driver, in driver-name order. */
  networks: { total: number; byDriver: Array<{ driver: string; count: number }> };
}

export function summarizeStore(containers: readonly Pick<ContainerRecord, 'state'>[], networks: readonly { driver: string }[]): StoreSummary {
  const running = containers.filter((c) => c.state === 'running').length;
  const counts = new Map<string, number>();
  for (const n of networks) counts.set(n.driver, (counts.get(n.driver) ?? 0) + 1);
  return {
    // plumb has no pause: a container is running, or stopped (created or exited), as Docker counts them.
    containers: { total: containers.length, running, paused: 0, stopped: containers.length - running },
    networks: {
      total: networks.length,
      byDriver: [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([driver, count]) => ({ driver, count })),
    },
  };
}
