// `ps --filter`: Docker's keys, its matching rules and its error texts.
import { describe, expect, it } from 'vitest';
import { type ContainerSummary, containerFilterFromFlags } from '../../src/cli/parse/container-filter.js';

const c = (name: string, fields: Partial<ContainerSummary> = {}): ContainerSummary => ({
  id: `${name}`.padEnd(64, '0'),
  name,
  image: 'busybox',
  state: 'running',
  exitCode: 0,
  created: '2026-01-01T00:00:00Z',
  labels: {},
  networks: [],
  published: [],
  exposed: [],
  ...fields,
});

const all = [
  c('web1', { networks: [{ id: 'aaa111', name: 'mynet' }], published: [{ port: 80, proto: 'tcp' }], labels: { tier: 'front' }, created: '2026-01-01T00:00:01Z' }),
  c('web2', { state: 'exited', exitCode: 137, image: 'alpine', created: '2026-01-01T00:00:02Z' }),
  c('db', { networks: [{ id: 'bbb222', name: 'bridge' }], exposed: [{ port: 5432, proto: 'tcp' }], image: 'busybox:latest', created: '2026-01-01T00:00:03Z' }),
];
const names = (...filters: string[]) => all.filter(containerFilterFromFlags(filters, all)).map((x) => x.name);

describe('ps --filter', () => {
  it('name matches all or part of the name, several values are alternatives', () => {
    expect(names('name=web')).toEqual(['web1', 'web2']);
    expect(names('name=^db$', 'name=web1')).toEqual(['web1', 'db']);
  });
  it('status and exited are exact', () => {
    expect(names('status=exited')).toEqual(['web2']);
    expect(names('exited=137')).toEqual(['web2']);
    expect(names('exited=0')).toEqual([]);
  });
  it('network by name, by ID or by the start of the ID', () => {
    expect(names('network=mynet')).toEqual(['web1']);
    expect(names('network=bbb222')).toEqual(['db']);
    expect(names('network=bbb')).toEqual(['db']);
  });
  it('label, ancestor (with and without :latest), publish and expose', () => {
    expect(names('label=tier')).toEqual(['web1']);
    expect(names('label=tier=back')).toEqual([]);
    expect(names('ancestor=busybox')).toEqual(['web1', 'db']);
    expect(names('ancestor=alpine:latest')).toEqual(['web2']);
    expect(names('publish=80')).toEqual(['web1']);
    expect(names('expose=5000-6000/tcp')).toEqual(['db']);
  });
  it('before and since compare with a named container', () => {
    expect(names('before=db')).toEqual(['web1', 'web2']);
    expect(names('since=web1')).toEqual(['web2', 'db']);
  });
  it('different keys must all match', () => {
    expect(names('name=web', 'status=running')).toEqual(['web1']);
  });
  it("refuses what Docker refuses, in Docker's words", () => {
    expect(() => names('color=red')).toThrow("Invalid filter 'color'");
    expect(() => names('status=sleeping')).toThrow('Unrecognised filter value for status: sleeping');
    expect(() => names('nameweb')).toThrow('bad format of filter (expected name=value)');
    expect(() => names('before=nope')).toThrow('No such container: nope');
    expect(() => names('publish=http')).toThrow(/invalid port filter/);
  });
});
