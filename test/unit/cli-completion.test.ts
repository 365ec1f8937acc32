// The bash and zsh completion scripts, made from the program's definition:
// run in a real bash with plumb stood in by a function that lists names.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, zshCompletion } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/main.js';

const script = bashCompletion(buildProgram());

/** What TAB offers after `words` (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const prelude = `plumb() { case "$*" in "ps -a"*) printf 'web\\ndb\\n';; "network ls"*) printf 'bridge\\nmynet\\n';; esac; }`;
  const call = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _plumb; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', `${prelude}\n${script}\n${call}`], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('plumb completion bash', () => {
  it('completes commands and subcommands, the container group included', () => {
    expect(complete('plumb', 'net')).toEqual(['network']);
    expect(complete('plumb', 'network', 'c')).toEqual(['create', 'connect']);
    expect(complete('plumb', 'container', 'l')).toEqual(['ls', 'list']);
  });
  it("completes a command's flags", () => {
    expect(complete('plumb', 'run', '--na')).toEqual(['--name']);
    expect(complete('plumb', 'ps', '--fi')).toEqual(['--filter']);
  });
  it('offers networks and containers where each goes', () => {
    expect(complete('plumb', 'network', 'connect', '')).toEqual(['bridge', 'mynet']);
    expect(complete('plumb', 'network', 'connect', 'mynet', '')).toEqual(['web', 'db']);
    expect(complete('plumb', 'run', '--network', '')).toEqual(['bridge', 'mynet', 'host', 'none']);
    expect(complete('plumb', 'run', '--link', 'w')).toEqual(['web']);
    expect(complete('plumb', 'rm', '-f', 'web', 'd')).toEqual(['db']);
    expect(complete('plumb', 'inspect', '')).toEqual(['web', 'db', 'bridge', 'mynet']);
  });
  it('offers nothing for a command to run inside a container', () => {
    expect(complete('plumb', 'exec', 'web', '')).toEqual([]);
  });
  it('zsh loads the same function through bashcompinit', () => {
    const zsh = zshCompletion(buildProgram());
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -F _plumb plumb');
  });
});
