// Usage errors read like Docker's: two lines and status 125 for a bad flag,
// Docker's argument-count wording, and a command group without a subcommand
// prints its help and succeeds. The pure wording is tested directly; the
// whole behaviour through bin/plumb, which fails before it touches anything.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerUsageError } from '../../src/cli/docker-command.js';

const root = mkdtempSync(join(tmpdir(), 'plumb-usage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function plumb(...args: string[]) {
  const r = spawnSync(process.execPath, [resolve('bin/plumb'), ...args], { encoding: 'utf8', env: { ...process.env, PLUMB_ROOT: root } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dockerUsageError', () => {
  it('words an unknown long flag as pflag does, with status 125', () => {
    expect(dockerUsageError('plumb run', 'commander.unknownOption', "error: unknown option '--foo'")).toEqual({
      text: "unknown flag: --foo\nSee 'plumb run --help'.",
      status: 125,
    });
  });
  it('words an unknown short flag as a shorthand', () => {
    expect(dockerUsageError('plumb ps', 'commander.unknownOption', "error: unknown option '-z'").text).toBe(
      "unknown shorthand flag: 'z' in -z\nSee 'plumb ps --help'.",
    );
  });
  it('counts arguments the way cli.RequiresRangeArgs and friends do', () => {
    expect(dockerUsageError('plumb port', 'commander.excessArguments', 'x', { min: 1, max: 2 }).text).toMatch(/^"plumb port" requires at least 1 and at most 2 arguments\./);
    expect(dockerUsageError('plumb rm', 'commander.missingArgument', 'x', { min: 1, max: Infinity }).text).toMatch(/requires at least 1 argument\./);
    expect(dockerUsageError('plumb network connect', 'commander.missingArgument', 'x', { min: 2, max: 2 }).text).toMatch(/requires exactly 2 arguments\./);
  });
  it('names an unknown subcommand with its group', () => {
    expect(dockerUsageError('plumb network', 'commander.unknownCommand', "error: unknown command 'foo'")).toEqual({
      text: "plumb: 'network foo' is not a plumb command.\nSee 'plumb --help'",
      status: 1,
    });
  });
});

describe('bin/plumb usage errors', () => {
  it('an unknown flag prints two lines and exits 125', () => {
    const r = plumb('run', '--foo', 'busybox');
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("unknown flag: --foo\nSee 'plumb run --help'.\n");
    expect(r.stdout).toBe('');
  });
  it('a flag without its value exits 125', () => {
    const r = plumb('run', '--name');
    expect(r.code).toBe(125);
    expect(r.stderr.split('\n')[0]).toBe('flag needs an argument: --name');
  });
  it('an unknown command prints two lines and exits 1', () => {
    const r = plumb('frobnicate');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("plumb: 'frobnicate' is not a plumb command.\nSee 'plumb --help'\n");
  });
  it('a group without a subcommand prints its help on stdout and exits 0', () => {
    for (const group of ['network', 'container', 'system']) {
      const r = plumb(group);
      expect(r.code, group).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: plumb ${group} `));
    }
  });
  it('run --help lists --net, the spelling the tutorials use', () => {
    expect(plumb('run', '--help').stdout).toMatch(/--net <network>/);
  });
  it('the container group offers Docker\'s subcommands', () => {
    const help = plumb('container', '--help').stdout;
    for (const sub of ['run', 'create', 'exec', 'ls|ps', 'port', 'stop', 'restart', 'start', 'rm|remove', 'inspect']) expect(help).toContain(sub);
  });
});
