// The store's layout: one file per container, the name index, the derived
// indexes, the address maps appended to, commits made whole by the commit
// file, readers without the lock, and the migration from the earlier layout.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_NAMES, INDEXES } from '../../src/store/containers.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../src/store/model.js';
import { containerNamed, containersWhere, findContainer, fullLoadsOf, Store, StoreReader } from '../../src/store/store.js';
import type { Paths } from '../../src/store/paths.js';
import { containerRecord, networkRecord } from '../helpers/records.js';

const NET = 'n'.repeat(64).replace(/n/g, 'a');

function network(): NetworkRecord {
  return networkRecord(NET, 'net', '10.1.0.0/16');
}

/** IDs that differ in their first four characters, as random ones do. */
const idOf = (i: number) => i.toString(16).padStart(4, '0') + 'e'.repeat(60);

function container(i: number, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  const ip = `10.1.${(i + 2) >> 8}.${(i + 2) & 255}`;
  return containerRecord(`c${i}`, {
    id: idOf(i + 1),
    image: 'alpine',
    hostname: 'h',
    networkMode: 'net',
    networks: [{ networkId: NET, aliases: [] }],
    endpoints: { [NET]: { id: `ep${i}`, networkId: NET, ifname: 'eth0', ip, prefix: 16, mac: '', aliases: [] } },
    ...extra,
  });
}

let dir: string;
let paths: Paths;
function freshRoot(): void {
  dir = mkdtempSync(join(tmpdir(), 'plumb-store-'));
  paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
}
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store with `n` containers on network "net", each with its address handed out. */
async function populate(n: number, extra: (i: number) => Partial<ContainerRecord> = () => ({})): Promise<Store> {
  const store = new Store(paths);
  await store.locked(async (data, commit) => {
    data.networks[NET] = network();
    for (let i = 0; i < n; i++) {
      const c = container(i, extra(i));
      data.containers[c.id] = c;
      data.networks[NET]!.allocated[c.endpoints[NET]!.ip] = c.endpoints[NET]!.id;
    }
    commit();
  });
  return store;
}

/**
 * Everything the layout promises, read back whole: each record found by its
 * name, the stored indexes exactly the records their predicate holds for,
 * the network's addresses exactly the records' addresses, none twice.
 */
async function expectConsistent(store: Store): Promise<StoreData> {
  return store.locked(async (data) => {
    const all = Object.values(data.containers);
    for (const c of all) expect(findContainer(data, c.name)?.id).toBe(c.id);
    const host = JSON.parse(readFileSync(join(paths.state, 'store.json'), 'utf8')) as { index: Record<string, string[]> };
    for (const n of INDEX_NAMES) {
      expect([...(host.index[n] ?? [])].sort(), `index ${n}`).toEqual(all.filter(INDEXES[n]).map((c) => c.id).sort());
    }
    const ips = all.map((c) => c.endpoints[NET]!.ip);
    expect(new Set(ips).size).toBe(ips.length);
    expect(Object.keys(data.networks[NET]!.allocated).sort()).toEqual([...ips].sort());
    return data;
  });
}

describe('store layout', () => {
  it('finds a container by name, ID and ID prefix reading only that record', async () => {
    freshRoot();
    await populate(50);
    const store = new Store(paths);
    await store.locked(async (data) => {
      expect(findContainer(data, 'c7')?.id).toBe(idOf(8));
      expect(findContainer(data, '/c7')?.id).toBe(idOf(8));
      expect(findContainer(data, idOf(9))?.name).toBe('c8');
      expect(findContainer(data, idOf(10).slice(0, 4))?.name).toBe('c9');
      // A prefix of several IDs names none of them.
      expect(findContainer(data, '00')).toBeUndefined();
      expect(findContainer(data, 'nobody')).toBeUndefined();
      expect(containersWhere(data, 'ports')).toEqual([]);
      expect(fullLoadsOf(data)).toBe(0);
      // Enumerating is what reads every record.
      expect(Object.keys(data.containers)).toHaveLength(50);
      expect(fullLoadsOf(data)).toBe(1);
    });
  });

  it('writes only what changed: one record, one name entry, one address line', async () => {
    freshRoot();
    const store = await populate(20);
    const alloc = join(paths.state, 'networks', `${NET}.allocated`);
    const linesBefore = readFileSync(alloc, 'utf8').split('\n').length;
    await store.locked(async (data, commit) => {
      const c = container(100);
      data.containers[c.id] = c;
      data.networks[NET]!.allocated[c.endpoints[NET]!.ip] = c.endpoints[NET]!.id;
      commit();
      expect(fullLoadsOf(data)).toBe(0);
    });
    expect(readFileSync(alloc, 'utf8').split('\n').length).toBe(linesBefore + 1);
    await store.locked(async (data, commit) => {
      const c = findContainer(data, 'c100')!;
      delete data.networks[NET]!.allocated[c.endpoints[NET]!.ip];
      delete data.containers[c.id];
      commit();
    });
    expect(readFileSync(alloc, 'utf8').endsWith(`${container(100).endpoints[NET]!.ip}\n`)).toBe(true);
    expect(existsSync(join(paths.state, 'names', 'c100'))).toBe(false);
    expect(existsSync(join(paths.state, 'records', `${idOf(101)}.json`))).toBe(false);
    // Files given up wait in the pool for the next container instead of being unlinked.
    expect(readdirSync(join(paths.state, 'free')).length).toBeGreaterThanOrEqual(2);
    await expectConsistent(store);
  });

  it('keeps the indexes and the name index right through renames, removals and changes', async () => {
    freshRoot();
    const store = await populate(6, (i) => (i === 1 ? { links: [{ target: 'c0', alias: 'db' }] } : {}));
    await store.locked(async (data, commit) => {
      const a = findContainer(data, 'c2')!;
      const b = findContainer(data, 'c3')!;
      // Two names swapped in one commit, a port bound, a link dropped, a container gone.
      a.name = 'c3';
      b.name = 'c2';
      a.ports = [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 }];
      findContainer(data, 'c1')!.links = [];
      const gone = findContainer(data, 'c4')!;
      delete data.networks[NET]!.allocated[gone.endpoints[NET]!.ip];
      delete data.containers[gone.id];
      expect(containerNamed(data, 'c3')?.id).toBe(a.id);
      expect(containersWhere(data, 'ports').map((c) => c.id)).toEqual([a.id]);
      commit();
    });
    const data = await expectConsistent(store);
    expect(findContainer(data, 'c3')?.id).toBe(idOf(3));
    expect(findContainer(data, 'c2')?.id).toBe(idOf(4));
    expect(findContainer(data, 'c4')).toBeUndefined();
    const reread = new Store(paths).read();
    expect(containersWhere(reread, 'ports').map((c) => c.name)).toEqual(['c3']);
    expect(containersWhere(reread, 'links')).toEqual([]);
  });

  it('replaces every record when the map is replaced wholesale (system reset)', async () => {
    freshRoot();
    const store = await populate(5);
    await store.locked(async (data, commit) => {
      data.containers = {};
      data.networks[NET]!.allocated = {};
      commit();
    });
    const data = await expectConsistent(store);
    expect(Object.keys(data.containers)).toEqual([]);
    expect(readdirSync(join(paths.state, 'records')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('migrates a store.json of the earlier layout on the first write, keeping every container', async () => {
    freshRoot();
    const net = network();
    const old: StoreData = { version: 1, networks: { [NET]: net }, containers: {}, sysctls: [{ key: 'k', original: '0' }], portCursors: { x: 5 } };
    for (let i = 0; i < 4; i++) {
      const c = container(i, i === 0 ? { ports: [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 80 }] } : {});
      old.containers[c.id] = c;
      net.allocated[c.endpoints[NET]!.ip] = c.endpoints[NET]!.id;
    }
    mkdirSync(paths.state, { recursive: true });
    writeFileSync(join(paths.state, 'store.json'), JSON.stringify(old));
    // Readers take the earlier layout as it is.
    expect(findContainer(new StoreReader(paths.state).read(), 'c2')?.id).toBe(idOf(3));
    const store = new Store(paths);
    const data = await expectConsistent(store);
    expect(Object.keys(data.containers)).toHaveLength(4);
    expect(data.sysctls).toEqual(old.sysctls);
    expect(data.portCursors).toEqual({ x: 5 });
    expect(data.networks[NET]!.allocated).toEqual(net.allocated);
    expect(containersWhere(data, 'ports').map((c) => c.name)).toEqual(['c0']);
    expect(readFileSync(join(paths.state, 'store.json'), 'utf8')).toMatch(/^\{"version":2,"generation":\d+,/);
  });

  it('applies a commit cut short whole: readers see it at once, the next writer finishes it', async () => {
    freshRoot();
    const store = await populate(3);
    const host = readFileSync(join(paths.state, 'store.json'), 'utf8');
    const generation = Number(/"generation":(\d+)/.exec(host)![1]);
    const c = container(9);
    // As a writer leaves it when killed after publishing its commit and before applying all of it.
    const pending = {
      generation: generation + 1,
      records: { [c.id]: JSON.stringify(c), [idOf(1)]: null },
      links: { c9: c.id },
      unlinks: { c0: idOf(1) },
      allocations: { [NET]: { append: `${c.endpoints[NET]!.ip} ${c.endpoints[NET]!.id}\n${container(0).endpoints[NET]!.ip}\n` } },
      host: host.replace(`"generation":${generation},`, `"generation":${generation + 1},`).replace('"sysctls":[]', '"sysctls":[{"key":"cut","original":"1"}]'),
    };
    writeFileSync(join(paths.state, 'store.commit'), JSON.stringify(pending));
    const seen = new StoreReader(paths.state).read();
    expect(findContainer(seen, 'c9')?.id).toBe(c.id);
    expect(findContainer(seen, 'c0')).toBeUndefined();
    expect(seen.sysctls).toEqual([{ key: 'cut', original: '1' }]);
    expect(Object.keys(new StoreReader(paths.state).snapshot().containers).sort()).toEqual([idOf(2), idOf(3), c.id].sort());
    const data = await expectConsistent(store);
    expect(existsSync(join(paths.state, 'store.commit'))).toBe(false);
    expect(findContainer(data, 'c9')?.id).toBe(c.id);
    expect(data.sysctls).toEqual([{ key: 'cut', original: '1' }]);
  });

  it('gives a reader a whole record even while its file is reused, and calls an unparsable commit unreadable', async () => {
    freshRoot();
    await populate(2);
    // A record file holding another container (a reused file caught mid-reuse) is not taken for this one.
    writeFileSync(join(paths.state, 'records', `${idOf(1)}.json`), JSON.stringify(container(1)));
    expect(() => findContainer(new StoreReader(paths.state).read(), idOf(1))).toThrow(/record of container .* is unreadable/);
    writeFileSync(join(paths.state, 'store.commit'), '{"generation":');
    expect(() => new StoreReader(paths.state).read()).toThrow(/is unreadable/);
    await expect(new Store(paths).locked(async () => undefined)).rejects.toThrow(/pending commit .* is unreadable/);
  });

  it('tells readers when to read again: the generation moves on every commit that changes something', async () => {
    freshRoot();
    const store = await populate(1);
    const reader = new StoreReader(paths.state);
    const k1 = reader.changeKey();
    await store.locked(async (_data, commit) => commit());
    expect(reader.changeKey()).toBe(k1);
    await store.locked(async (data, commit) => {
      findContainer(data, 'c0')!.state = 'exited';
      commit();
    });
    expect(reader.changeKey()).not.toBe(k1);
  });
});

describe('store under concurrent and killed writers', () => {
  const work = resolve('test', `.store-writer-${process.pid}`);
  const writer = join(work, 'writer.mjs');
  beforeAll(() => {
    // Two directories below the repository, as dist/ is: the addon (flock) is found the same way.
    buildSync({ entryPoints: [resolve('test/helpers/store-writer.ts')], bundle: true, platform: 'node', format: 'esm', outfile: writer, logLevel: 'error' });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const runWriter = (prefix: string, n: number, env: NodeJS.ProcessEnv = {}) =>
    new Promise<number | null>((done, fail) => {
      const child = spawn(process.execPath, [writer, paths.state, paths.run, String(n), prefix], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b));
      child.on('error', fail);
      child.on('close', (code, signal) => (code === 0 || signal === 'SIGKILL' ? done(code) : fail(new Error(`writer ${prefix} exited ${code}: ${err}`))));
    });

  it('four processes writing at once never hand out one address twice and lose no container', async () => {
    freshRoot();
    const store = await populate(0);
    await Promise.all(['a', 'b', 'c', 'd'].map((p) => runWriter(p, 15)));
    const data = await expectConsistent(store);
    expect(Object.keys(data.containers)).toHaveLength(60);
  });

  it('a writer killed at any moment leaves a store the next writer finds whole', async () => {
    freshRoot();
    const store = await populate(0);
    let killed = 0;
    // Kills land from the lock taken to past the commit: before, during and after the commit's writes.
    for (let i = 0; i < 14; i++) {
      const code = await runWriter(String.fromCharCode(97 + i), 2, { PLUMB_CRASH_AFTER_LOCK_US: String(50 + i * 250) });
      if (code !== 0) killed++;
      await expectConsistent(store);
    }
    expect(killed).toBeGreaterThan(0);
  }, 120_000);
});
