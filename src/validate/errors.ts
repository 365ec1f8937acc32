// The error every input check throws. It sits below the engine and the CLI
// so both can call the same checks: the CLI before it parses a request, the
// engine before it locks the store, so a refused command changes nothing.
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    /** Exit code for the CLI; `run` and `create` turn it into Docker's 125. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
