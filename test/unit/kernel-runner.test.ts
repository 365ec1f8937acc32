// The one runner for external programs (src/kernel/runner.ts): statuses as a
// shell reports them, output as written, programs that cannot start, and the
// environment daemons get. Runs harmless programs only (sh, cat).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonEnv, inNetnsArgv, runProgram, runProgramDirect, startInBackground } from '../../src/kernel/runner.js';
import { KernelError } from '../../src/kernel/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runProgramDirect (the firewall\'s path), same contract as runProgram', () => {
  it('feeds stdin, returns output as written and the status', async () => {
    expect(await runProgramDirect(['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'a\nb\n' })).toEqual({ code: 3, stdout: 'a\nb\n', stderr: 'oops\n' });
    expect((await runProgramDirect(['sh', '-c', 'kill -TERM $$'])).code).toBe(143);
  });

  it('rejects with a KernelError naming the program when it cannot start', async () => {
    const err = await runProgramDirect(['/nonexistent/plumb-no-such-program'], { doing: 'test run' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toMatch(/test run: cannot run \/nonexistent\/plumb-no-such-program/);
  });
});

describe('runProgram', () => {
  it('feeds stdin and returns stdout and stderr exactly as written, trailing newline included', async () => {
    const r = await runProgram(['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'a\nb\n' });
    expect(r).toEqual({ code: 3, stdout: 'a\nb\n', stderr: 'oops\n' });
  });

  it('reports a program killed by signal N as 128+N', async () => {
    const r = await runProgram(['sh', '-c', 'kill -TERM $$']);
    expect(r.code).toBe(143);
  });

  it('passes the given environment alone when one is given', async () => {
    const r = await runProgram(['/bin/sh', '-c', 'echo "$ONLY_THIS-${HOME:-unset}"'], { env: { ONLY_THIS: 'yes', PATH: '/usr/bin:/bin' } });
    expect(r.stdout).toBe('yes-unset\n');
  });

  it('rejects with a KernelError naming the program when it cannot start', async () => {
    const err = await runProgram(['/nonexistent/plumb-no-such-program'], { doing: 'test run' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toMatch(/test run: cannot run \/nonexistent\/plumb-no-such-program/);
  });
});

describe('startInBackground', () => {
  it('starts a program in its own session, writing to the given file descriptor, without waiting for it', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const out = join(dir, 'bg.log');
    const fd = openSync(out, 'a');
    const started = await startInBackground(['sh', '-c', 'echo "pgid=$(cut -d" " -f5 /proc/$$/stat) pid=$$"'], { stdout: fd, stderr: fd });
    closeSync(fd);
    expect(started.pid).toBeGreaterThan(1);
    const deadline = Date.now() + 10_000;
    while (started.exited() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(started.exited()).toBe(0);
    expect(readFileSync(out, 'utf8').trim()).toBe(`pgid=${started.pid} pid=${started.pid}`);
  });
});

describe('daemonEnv and inNetnsArgv', () => {
  it('drops what belongs to the starting command only, and adds the given settings', () => {
    process.env.PLUMB_FAIL_AT_STEP = 'x';
    process.env.NODE_EXTRA_CA_CERTS = '/tmp/ca.pem';
    try {
      const env = daemonEnv({ PLUMB_NODE_NAME: 'n1', PLUMB_ROOT: undefined });
      expect(env.PLUMB_FAIL_AT_STEP).toBeUndefined();
      expect(env.NODE_EXTRA_CA_CERTS).toBeUndefined();
      expect(env.PLUMB_NODE_NAME).toBe('n1');
      expect('PLUMB_ROOT' in env && env.PLUMB_ROOT === undefined).toBe(false);
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      delete process.env.PLUMB_FAIL_AT_STEP;
      delete process.env.NODE_EXTRA_CA_CERTS;
    }
  });

  it('runs in plumb\'s own namespace directly, in another under nsenter', () => {
    expect(inNetnsArgv({ name: null, path: null, fd: 3 } as never, ['iptables-save'])).toEqual(['iptables-save']);
    expect(inNetnsArgv({ name: 'x', path: '/run/netns/x', fd: 4 } as never, ['iptables-save'])).toEqual(['nsenter', '--net=/run/netns/x', '--', 'iptables-save']);
  });
});
