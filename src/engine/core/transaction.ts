// An operation is a list of named steps; each step that changes something
// registers how to undo it. If any step fails, the undos run in reverse order
// and the operation leaves no trace.
//
// PLUMB_CRASH_AT_STEP=N makes the process SIGKILL itself just before step N
// (counting from 1) — the hook crash tests use to leave real leftovers behind
// for `plumb system check` / `gc` to find.

export type Undo = () => Promise<void> | void;

export class TransactionError extends Error {
  constructor(
    message: string,
    readonly step: string,
    readonly undoFailures: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class Transaction {
  private readonly undos: Array<{ step: string; undo: Undo }> = [];
  private count = 0;
  private readonly crashAt = Number(process.env.PLUMB_CRASH_AT_STEP ?? 0);
  private readonly failAt = process.env.PLUMB_FAIL_AT_STEP;

  constructor(readonly name: string) {}

  /** Runs one named step. `undo` (if given) is registered only when `run` succeeds. */
  async step<T>(step: string, run: () => Promise<T> | T, undo?: Undo | ((result: T) => Promise<void> | void)): Promise<T> {
    this.count++;
    if (this.crashAt === this.count) process.kill(process.pid, 'SIGKILL');
    if (this.failAt === String(this.count) || this.failAt === step) {
      throw new Error(`injected failure at step ${this.count} (${step})`);
    }
    const result = await run();
    if (undo) this.undos.push({ step, undo: () => (undo as (r: T) => Promise<void> | void)(result) });
    return result;
  }

  /** Registers an undo for something done outside step(). */
  onRollback(step: string, undo: Undo): void {
    this.undos.push({ step, undo });
  }

  /** Runs the undos in reverse; returns the ones that failed (they are reported, not thrown). */
  async rollback(): Promise<string[]> {
    const failures: string[] = [];
    while (this.undos.length) {
      const { step, undo } = this.undos.pop()!;
      try {
        await undo();
      } catch (err) {
        failures.push(`undo of ${step}: ${(err as Error).message}`);
      }
    }
    return failures;
  }

  /** Wraps a whole operation: on error, roll back and rethrow the original error. */
  static async run<T>(name: string, body: (tx: Transaction) => Promise<T>): Promise<T> {
    const tx = new Transaction(name);
    try {
      return await body(tx);
    } catch (err) {
      const failures = await tx.rollback();
      if (failures.length) {
        const e = err as Error;
        e.message += ` (and rollback failed: ${failures.join('; ')}; run plumb system gc)`;
      }
      throw err;
    }
  }

  /** Number of steps run so far (tests use it to inject a failure at every step). */
  get steps(): number {
    return this.count;
  }
}
