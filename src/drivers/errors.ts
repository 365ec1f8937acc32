// A driver refusing a request: one line naming the problem and the fix. The
// CLI prints it like any user error (exit code 1 unless the driver says
// otherwise, e.g. 125 for `run`'s --ip on a network without a user subnet).
export class DriverError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}
