// A pseudo-terminal for a command under test, from util-linux `script`: the
// command sees a terminal on stdin/stdout (as a user at a shell would give
// it), the test writes keystrokes and reads what the terminal shows.
import { spawn, type ChildProcess } from 'node:child_process';

const shellQuote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  private child: ChildProcess;
  private text = '';
  readonly exited: Promise<number>;

  constructor(argv: string[], env: NodeJS.ProcessEnv) {
    // -e: script exits with the command's status; -q: no banner; the typescript goes nowhere.
    this.child = spawn('script', ['-q', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => (this.text += b.toString('utf8')));
    this.child.stderr!.on('data', (b: Buffer) => (this.text += b.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? 9 : 0))));
  }

  /** What the terminal showed so far. */
  get output(): string {
    return this.text;
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits (polling, generous deadline) until the output matches; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}; it showed:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends `script` and what runs under it, by its PID, if the test did not. */
  kill(): void {
    if (this.child.exitCode === null && this.child.pid) this.child.kill('SIGKILL');
  }
}
