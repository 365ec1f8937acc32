// plumb's state and runtime directories are root's alone (0700; the store
// 0600): a container's `-e DB_PASSWORD=...` lives in the store, and a local
// user must not read it, nor list containers and networks through plumb.
// Docker keeps /var/lib/docker at 0710 and container configs at 0600.
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `dir` (and any missing parent) and keeps it root-only, also when an older plumb made it 0755. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if ((statSync(dir).mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** The error for a user who may not read plumb's state: what to do, in one line. */
export function rootOnly(path: string): Error {
  return new Error(`permission denied: ${path} is readable by root only (it holds containers' settings and environment); run plumb as root (sudo plumb ...)`);
}

export function isPermissionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'EACCES' || code === 'EPERM';
}
