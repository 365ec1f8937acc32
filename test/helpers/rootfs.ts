// The busybox root filesystem the image labels busybox and alpine run on.
// scripts/setup builds it at the default place; a checkout whose setup has
// not run yet gets one built by the same script under dist/ (a build output,
// like the bundle), so tests never depend on what another checkout installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..');
const DEFAULT = '/usr/local/lib/plumb/rootfs';
let chosen: string | undefined;

/** A directory holding busybox/ for PLUMB_ROOTFS_DIR. */
export function testRootfsDir(): string {
  if (chosen) return chosen;
  if (existsSync(join(DEFAULT, 'busybox', 'bin', 'busybox'))) return (chosen = DEFAULT);
  const dir = join(REPO, 'dist', 'test-rootfs');
  if (!existsSync(join(dir, 'busybox', 'bin', 'busybox'))) {
    const r = spawnSync(join(REPO, 'scripts', 'build-rootfs'), [join(dir, 'busybox')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/build-rootfs failed: ${r.stderr}`);
  }
  return (chosen = dir);
}
