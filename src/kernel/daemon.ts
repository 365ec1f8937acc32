// Starting plumb's own long-lived processes (the embedded DNS resolver, the
// overlay agent): `node bin/plumb ARGS...`, detached, output to a log file.
// One launcher, so both get the same cleaned environment: no CA bundle to parse
// at start (plumb makes no TLS connection, as bin/plumb's shebang assumes), and
// no step-failure hooks meant for the command that started them.
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawn } from './spawn.js';

// This file sits two directories below the repository, like the bundle
// (dist/bundle/plumb.cjs), so the same relative path works from both.
const PLUMB_BIN = fileURLToPath(new URL('../../bin/plumb', import.meta.url));

/** Variables a daemon must not inherit from the command that starts it. */
const NOT_INHERITED = ['NODE_EXTRA_CA_CERTS', 'PLUMB_CRASH_AT_STEP', 'PLUMB_FAIL_AT_STEP'];

export interface Daemon {
  pid: number | undefined;
  /** The exit code once the process has ended, else null. */
  exitCode(): number | null;
}

/** Starts `plumb ARGS...` in the background with `extraEnv` on top of this process's environment. */
export function launchDaemon(args: string[], opts: { logFile: string; extraEnv?: NodeJS.ProcessEnv; cwd?: string }): Daemon {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.extraEnv };
  for (const key of NOT_INHERITED) delete env[key];
  const log = openSync(opts.logFile, 'a', 0o640);
  try {
    const child = spawn(process.execPath, [PLUMB_BIN, ...args], { detached: true, stdio: ['ignore', log, log], env, cwd: opts.cwd ?? '/' });
    let exited: number | null = null;
    child.on('exit', (code) => {
      exited = code ?? 1;
    });
    child.unref();
    return { pid: child.pid, exitCode: () => exited };
  } finally {
    closeSync(log);
  }
}
