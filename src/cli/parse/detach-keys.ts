// Docker's detach keys: `ctrl-p,ctrl-q` by default, `--detach-keys` to change
// them. Typed while attached, the sequence detaches instead of reaching the
// container; a partial match is held back until it is known not to be one.

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** `ctrl-p,ctrl-q` -> [16, 17]; a single character stands for itself. */
export function parseDetachKeys(spec: string): number[] {
  const keys: number[] = [];
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p.length === 1) {
      keys.push(p.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(p);
    if (!m) throw new Error(`Invalid detach keys (${spec}) provided: use a comma-separated list of ctrl-<value> (a-z, @, ^, [, \\, ], _) or single characters`);
    const ch = m[1]!;
    keys.push(ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(ch) === 0 ? 0 : 27 + '[\\]^_'.indexOf(ch));
  }
  if (!keys.length) throw new Error(`Invalid detach keys (${spec}) provided`);
  return keys;
}

/** Feeds input through; `push` returns what to send on, and whether the sequence was completed. */
export class DetachMatcher {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  push(chunk: Uint8Array): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: what was held goes on, and this byte may start a new match.
      out.push(...this.held);
      this.held = [];
      if (b === this.keys[0]) this.held.push(b);
      else out.push(b);
      if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
