// iptables through its own programs, run by the runner (runner.ts): one
// `iptables-restore --noflush --wait` process per batch of rules, fed on
// stdin, and `iptables-save` to read rules back. Inside a namespace other
// than plumb's own, the same command runs under `nsenter --net=<file>`.
import { accessSync, constants as fsc, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Journal } from './ops.js';
import type { Netns } from './netns.js';
import { KernelError } from './errors.js';
import { inNetnsArgv, runProgramDirect, startProgramDirect } from './runner.js';

export type IptablesTable = 'filter' | 'nat' | 'mangle' | 'raw';

export { inNetnsArgv };

// The runner's direct path, not execa: these run inside `run -p` and `rm -f`, where loading execa was measured to cost too much (runner.ts).
function run(argv: string[], input: string | undefined, doing: string, ns?: Netns) {
  return runProgramDirect(argv, { input, doing, ns });
}

/** The 1-based line number iptables-restore blames, from its stderr (legacy and nf_tables wording). */
export function failingLine(stderr: string): number | undefined {
  const m = /line:? (\d+)/i.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * Applies a batch of rules in `ns` with one `iptables-restore --noflush --wait`.
 * The text is iptables-save format (`*table` ... `COMMIT`). Recorded as an op.
 *
 * `meanwhile` runs once the program has its input, while it works: a restore
 * that deletes rules waits out an RCU grace period before it exits, and a
 * kernel change that waits for one too (deleting a bridge) can wait for the
 * same one instead of another after it. Its own kernel changes are recorded
 * after this op. It runs whatever the restore's outcome; the restore's
 * failure is thrown after it. In a dry run it runs (recording its ops) with
 * no restore.
 */
export async function applyIptables(journal: Journal, ns: Netns, rulesText: string, why?: string, meanwhile?: () => Promise<void>): Promise<void> {
  let ranAlongside = false;
  await journal.run({ kind: 'iptables', ns: ns.name, rules: rulesText, why }, async () => {
    const where = ns.name ? ` in ${ns.name}` : '';
    const input = rulesText.endsWith('\n') ? rulesText : `${rulesText}\n`;
    // Started inside `ns` itself (runner.ts), not under nsenter.
    const started = startProgramDirect(['iptables-restore', '--noflush', '--wait'], { input, doing: `iptables-restore${where}`, ns });
    // Never rejects (a handler is attached at once): the failure, if any, is thrown below.
    const outcome: Promise<Error | undefined> = started.result.then(
      (res) => restoreFailure(res, input, where),
      (err: Error) => err,
    );
    if (meanwhile) {
      await started.inputSent;
      ranAlongside = true;
      try {
        await meanwhile();
      } catch (err) {
        // The restore's own failure, if any, is the one to report: it came first.
        throw (await outcome) ?? err;
      }
    }
    const failure = await outcome;
    if (failure) throw failure;
  });
  if (meanwhile && !ranAlongside) await meanwhile();
}

function restoreFailure(res: { code: number; stderr: string }, input: string, where: string): KernelError | undefined {
  if (res.code === 0) return undefined;
  const stderr = res.stderr.trim();
  const lineNo = failingLine(stderr);
  const line = lineNo !== undefined ? input.split('\n')[lineNo - 1] : undefined;
  const at = line !== undefined ? `\n  at line ${lineNo}: ${line}` : '';
  return new KernelError(`iptables-restore${where} failed (exit ${res.code}): ${stderr || 'no message'}${at}`, 'EIPTABLES');
}

/** How many nf_tables batches (generation bumps) a restore text commits: one per table it names. */
export function restoreCommits(rulesText: string): number {
  return rulesText.split('\n').filter((l) => l.startsWith('*')).length;
}

/** The rules in `ns` as iptables-save prints them (one table, or all). */
export async function saveIptables(ns: Netns, table?: IptablesTable): Promise<string> {
  const where = ns.name ? ` in ${ns.name}` : '';
  const res = await run(['iptables-save', ...(table ? ['-t', table] : [])], undefined, `iptables-save${where}`, ns);
  if (res.code !== 0) {
    throw new KernelError(`iptables-save${where} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`, 'EIPTABLES');
  }
  return res.stdout;
}

function findInPath(name: string): string | undefined {
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Which iptables the machine uses. Decided from where the `iptables` binary
 * leads (xtables-nft-multi / xtables-legacy-multi) without starting a process;
 * asks `iptables --version` only when the link does not say.
 */
export async function iptablesBackend(): Promise<'nf_tables' | 'legacy' | 'missing'> {
  const bin = findInPath('iptables');
  if (!bin) return 'missing';
  let real = bin;
  try {
    real = realpathSync(bin);
  } catch {
    return 'missing';
  }
  if (/nft/.test(real)) return 'nf_tables';
  if (/legacy/.test(real)) return 'legacy';
  try {
    const res = await run([bin, '--version'], undefined, 'iptables --version');
    if (/nf_tables/.test(res.stdout)) return 'nf_tables';
    if (res.code === 0) return 'legacy';
  } catch {
    // fall through
  }
  return 'missing';
}

/** `iptables --version` as printed (e.g. "iptables v1.8.9 (nf_tables)"), or undefined when iptables is missing. */
export async function iptablesVersion(): Promise<string | undefined> {
  const bin = findInPath('iptables');
  if (!bin) return undefined;
  try {
    const res = await run([bin, '--version'], undefined, 'iptables --version');
    return res.code === 0 ? res.stdout.trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}
