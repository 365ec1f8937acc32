// `plumb system info`'s counts: containers by state and networks by driver,
// laid out as `docker info` lays out its container counts.
import { describe, expect, it } from 'vitest';
import { summaryLines } from '../../src/cli/commands/system.js';
import { summarizeStore } from '../../src/engine/system/summary.js';

describe('system info summary', () => {
  const containers = [{ state: 'running' as const }, { state: 'exited' as const }, { state: 'created' as const }, { state: 'running' as const }];
  const networks = [{ driver: 'overlay' }, { driver: 'bridge' }, { driver: 'null' }, { driver: 'bridge' }, { driver: 'host' }, { driver: 'macvlan' }];

  it('counts running containers, and created or exited ones as stopped (plumb has no pause)', () => {
    expect(summarizeStore(containers, networks).containers).toEqual({ total: 4, running: 2, paused: 0, stopped: 2 });
  });

  it('counts networks by driver, in driver order', () => {
    expect(summarizeStore(containers, networks).networks).toEqual({
      total: 6,
      byDriver: [
        { driver: 'bridge', count: 2 },
        { driver: 'host', count: 1 },
        { driver: 'macvlan', count: 1 },
        { driver: 'null', count: 1 },
        { driver: 'overlay', count: 1 },
      ],
    });
  });

  it("prints docker info's layout: a total, then one indented line per kind", () => {
    expect(summaryLines(summarizeStore(containers, networks.slice(0, 3)))).toEqual([
      'Containers: 4',
      ' Running: 2',
      ' Paused: 0',
      ' Stopped: 2',
      'Networks: 3',
      ' bridge: 1',
      ' null: 1',
      ' overlay: 1',
    ]);
  });

  it('an empty store has zero of everything and no driver lines', () => {
    expect(summaryLines(summarizeStore([], []))).toEqual(['Containers: 0', ' Running: 0', ' Paused: 0', ' Stopped: 0', 'Networks: 0']);
  });
});
