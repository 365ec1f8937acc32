// What an IMAGE label means. plumb has no images: a label is a name, except
// `busybox` and `alpine` (with any tag or registry prefix), which give the
// container the busybox userland the tutorials show: a root filesystem made
// by scripts/setup (scripts/build-rootfs) from Debian's busybox-static, so
// `ash`, `ping`, `ip`, `wget` and `nc` are busybox's and print what the
// tutorials print. Any other label runs COMMAND from the host's filesystem.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PlumbError } from '../core/errors.js';

export const DEFAULT_ROOTFS_DIR = '/usr/local/lib/plumb/rootfs';

export interface ImageInfo {
  /** The root filesystem to enter; undefined: the host's. */
  rootfs?: string;
  /** What `run -it IMAGE` runs without COMMAND (the image's CMD); undefined: no default. */
  shell?: string[];
}

/** `busybox`, `busybox:1.36`, `docker.io/library/alpine:3.19` -> the image's base name. */
export function imageBaseName(label: string): string {
  const noDigest = label.split('@')[0]!;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const name = last.split(':')[0]!;
  const registry = noDigest.includes('/') ? noDigest.slice(0, noDigest.lastIndexOf('/')) : '';
  // Only Docker Hub's official images: someone/busybox is not the busybox image.
  return registry === '' || registry === 'library' || registry === 'docker.io/library' ? name : noDigest;
}

const BUSYBOX_IMAGES: Record<string, string[]> = {
  busybox: ['sh'],
  alpine: ['/bin/sh'],
};

export function rootfsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PLUMB_ROOTFS_DIR ?? DEFAULT_ROOTFS_DIR;
}

export function imageInfo(label: string, env: NodeJS.ProcessEnv = process.env): ImageInfo {
  const shell = BUSYBOX_IMAGES[imageBaseName(label)];
  if (!shell) return {};
  return { rootfs: join(rootfsDir(env), 'busybox'), shell };
}

/** The image's root filesystem, which must have been built. */
export function requireRootfs(label: string, rootfs: string): string {
  if (!existsSync(join(rootfs, 'bin', 'busybox'))) {
    throw new PlumbError(
      `image ${label} runs on the busybox root filesystem, which is missing at ${rootfs}: run scripts/setup (or scripts/build-rootfs ${rootfs})`,
      125,
    );
  }
  return rootfs;
}
