// The memo of the host's rules (engine/firewall/rules-memo.ts): after each
// operation it holds what iptables-save prints, rule for rule; `network
// create`, `network rm`, `run -p` and `rm -f` start no iptables-save while
// only plumb changes the rules; a change another program makes (a flushed
// plumb chain) is seen by the next operation, which reads the rules and
// repairs them. iptables-save is counted through a logging wrapper first in
// PATH (the firewall starts it by name).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/firewall/save.js';
import { Lab } from '../helpers/lab.js';

let lab: Lab;
let shimDir: string;
let saveLog: string;

beforeAll(() => {
  lab = Lab.create({ tag: 'memo' });
  shimDir = join(lab.root, 'shim');
  saveLog = join(lab.root, 'iptables-save.log');
  mkdirSync(shimDir, { recursive: true });
  const real = ['/usr/sbin/iptables-save', '/sbin/iptables-save', '/usr/bin/iptables-save'].find((p) => existsSync(p));
  writeFileSync(join(shimDir, 'iptables-save'), `#!/bin/sh\necho run >> '${saveLog}'\nexec ${real} "$@"\n`);
  chmodSync(join(shimDir, 'iptables-save'), 0o755);
});

afterAll(async () => {
  await lab.teardown();
});

const env = () => ({ PATH: `${shimDir}:${process.env.PATH}` });
const plumbOk = (args: string[]) => lab.plumbOk(args, { env: env() });

/** iptables-save runs since the last call. */
function savesSinceLastCall(): number {
  if (!existsSync(saveLog)) return 0;
  const n = readFileSync(saveLog, 'utf8').split('\n').filter(Boolean).length;
  rmSync(saveLog);
  return n;
}

/** What the firewall code reads from a dump: per table, chain policies and each chain's rules as tokens. */
function parsed(text: string): Record<string, { chains: Record<string, string>; rules: Record<string, string[]> }> {
  const out: Record<string, { chains: Record<string, string>; rules: Record<string, string[]> }> = {};
  for (const [table, t] of parseIptablesSave(text)) {
    out[table] = {
      chains: Object.fromEntries(t.chains),
      rules: Object.fromEntries([...t.rules].filter(([, r]) => r.length > 0).map(([c, r]) => [c, r.map((args) => args.join(' '))])),
    };
  }
  return out;
}

function memo(): { generation: number; rules: string } {
  return JSON.parse(readFileSync(join(lab.root, 'run', 'iptables-memo.json'), 'utf8'));
}

function expectMemoIsTheKernel(after: string): void {
  expect(parsed(memo().rules), `memo after ${after}`).toEqual(parsed(lab.iptablesSave()));
}

describe('the memo of the host rules', () => {
  it('matches iptables-save after each operation, which then needs no iptables-save of its own', async () => {
    // First use reads the (empty) rules and creates the tables: the next operation reads them once more.
    await plumbOk(['network', 'create', 'first']);
    await plumbOk(['network', 'create', 'second']);
    expectMemoIsTheKernel('network create second');
    savesSinceLastCall();

    await plumbOk(['network', 'create', '--internal', 'm1']);
    expectMemoIsTheKernel('network create m1');
    await plumbOk(['network', 'rm', 'm1']);
    expectMemoIsTheKernel('network rm m1');
    await plumbOk(['run', '-d', '--name', 'pub', '--network', 'second', '-p', '8080:80', '-p', '9000-9003:9000-9003/udp', 'debian']);
    expectMemoIsTheKernel('run -p');
    await plumbOk(['rm', '-f', 'pub']);
    expectMemoIsTheKernel('rm -f');
    expect(savesSinceLastCall(), 'iptables-save runs while only plumb changed the rules').toBe(0);
    expect(await lab.plumbOk(['system', 'check'])).toBe('ok: the kernel matches the store\n');
  });

  it('sees a change made by another program, reads the rules and repairs them', async () => {
    savesSinceLastCall();
    const generation = memo().generation;
    lab.execSync(['iptables', '-F', 'PLUMB-FORWARD']);
    await plumbOk(['network', 'create', 'after-flush']);
    expect(savesSinceLastCall(), 'the flush moved the generation: the rules are read').toBeGreaterThan(0);
    expect(memo().generation).toBeGreaterThan(generation);
    expectMemoIsTheKernel('the repair');
    expect(await lab.plumbOk(['system', 'check'])).toBe('ok: the kernel matches the store\n');
    // Every network's rules are back, not only the new one's.
    const forward = lab.iptablesSave().split('\n').filter((l) => l.startsWith('-A PLUMB-FORWARD '));
    for (const name of ['first', 'second', 'after-flush']) expect(forward.some((l) => l.includes(`"plumb: network ${name}"`)), name).toBe(true);
    for (const name of ['first', 'second', 'after-flush']) await plumbOk(['network', 'rm', name]);
    expectMemoIsTheKernel('network rm');
  });
});
