// child_process, loaded on the first spawn: loading it (with net and streams)
// costs a plumb process ~3 ms, and most runs start no process at all.
import type * as ChildProcessModule from 'node:child_process';
import { createRequire } from 'node:module';

let childProcess: typeof ChildProcessModule | undefined;

export const spawn: typeof ChildProcessModule.spawn = ((...args: Parameters<typeof ChildProcessModule.spawn>) => {
  childProcess ??= createRequire(import.meta.url)('node:child_process') as typeof ChildProcessModule;
  return childProcess.spawn(...args);
}) as typeof ChildProcessModule.spawn;
