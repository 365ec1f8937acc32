// Errors meant for the user: one line that names the problem and the fix.
// The CLI prints these as "Error response from daemon: <message>" where Docker would.
export class PlumbError extends Error {
  constructor(
    message: string,
    /** Exit code for the CLI (Docker uses 1 for daemon errors, 125 for run errors). */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'PlumbError';
  }
}
