// Pure parts of the container lifecycle: detach keys, the CRI log format,
// image labels, the mounts of a busybox root.
import { describe, expect, it } from 'vitest';
import { DetachMatcher, parseDetachKeys } from '../../src/cli/parse/detach-keys.js';
import { parseLogChunk, parseLogLine, tailRecords } from '../../src/engine/containers/logs.js';
import { imageBaseName, imageInfo } from '../../src/engine/containers/images.js';
import { containerFstab } from '../../src/kernel/container-init.js';

describe('detach keys', () => {
  it("parses Docker's forms", () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-a,x')).toEqual([1, 120]);
    expect(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')).toEqual([0, 27, 28, 29, 30, 31]);
    expect(() => parseDetachKeys('ctrl-1')).toThrow(/Invalid detach keys/);
    expect(() => parseDetachKeys('alt-x')).toThrow(/Invalid detach keys/);
  });

  it('holds back a partial sequence and lets it through when it is not one', () => {
    const m = new DetachMatcher([16, 17]);
    expect(m.push(Buffer.from('ab\x10'))).toEqual({ forward: Buffer.from('ab'), detach: false });
    expect(m.push(Buffer.from('c'))).toEqual({ forward: Buffer.from('\x10c'), detach: false });
    expect(m.push(Buffer.from('\x10\x10'))).toEqual({ forward: Buffer.from('\x10'), detach: false });
    expect(m.push(Buffer.from('\x11zz'))).toEqual({ forward: Buffer.from(''), detach: true });
  });

  it('detaches on a sequence split across reads', () => {
    const m = new DetachMatcher(parseDetachKeys('ctrl-x,y,z'));
    expect(m.push(Buffer.from('ls\n\x18')).detach).toBe(false);
    expect(m.push(Buffer.from('y')).detach).toBe(false);
    expect(m.push(Buffer.from('z'))).toEqual({ forward: Buffer.from(''), detach: true });
  });
});

describe('the log format plumb-monitor writes', () => {
  const file = [
    '2026-12-07T03:42:05.741497346Z stdout F hello',
    '2026-12-07T03:42:05.741584959Z stderr F oops',
    '2026-12-07T03:42:05.741616708Z stdout P / # ',
    '2026-12-07T03:42:06.693974495Z stdout F hostname',
    '2026-12-07T03:42:06.714428063Z stdout F ',
    '2026-12-07T03:42:06.714674994Z stdout P / # ',
    '2026-12-07T03:42:07.0Z stdout F half',
  ].join('\n');

  it('parses records; F ends a line, P does not; an unfinished last line is kept back', () => {
    const { records, rest } = parseLogChunk(file);
    expect(rest).toBe('2026-12-07T03:42:07.0Z stdout F half');
    expect(records.map((r) => r.text).join('')).toBe('hello\noops\n/ # hostname\n\n/ # ');
    expect(records[1]).toEqual({ time: '2026-12-07T03:42:05.741584959Z', stream: 'stderr', text: 'oops\n' });
    expect(parseLogLine('garbage')).toBeUndefined();
  });

  it('--tail counts lines, not records', () => {
    const { records } = parseLogChunk(`${file}\n`);
    const text = (n: number) => tailRecords(records, n).map((r) => r.text).join('');
    expect(text(1)).toBe('/ # half\n');
    expect(text(2)).toBe('\n/ # half\n');
    expect(text(3)).toBe('/ # hostname\n\n/ # half\n');
    expect(text(0)).toBe('');
    expect(text(100)).toBe('hello\noops\n/ # hostname\n\n/ # half\n');
  });
});

describe('image labels', () => {
  it('knows busybox and alpine by any tag or official-image prefix, and nothing else', () => {
    for (const l of ['busybox', 'busybox:1.36', 'library/busybox', 'docker.io/library/alpine:3.19', 'alpine@sha256:abc']) {
      expect(imageInfo(l, { PLUMB_ROOTFS_DIR: '/r' }).rootfs).toBe('/r/busybox');
    }
    for (const l of ['nginx', 'someone/busybox', 'quay.io/alpine', 'debian', 'alpine-ish']) expect(imageInfo(l).rootfs).toBeUndefined();
    expect(imageBaseName('docker.io/library/alpine:3.19')).toBe('alpine');
    expect(imageInfo('busybox').shell).toEqual(['sh']);
    expect(imageInfo('alpine:latest').shell).toEqual(['/bin/sh']);
  });
});

describe('the mounts of a container', () => {
  it('binds the sandbox files over the root, read-only, with its own /proc, /sys, /dev, /tmp and /root', () => {
    const text = containerFstab({ hosts: '/s/hosts', resolvConf: '/s/resolv.conf', hostname: '/s/host name' }, '/nonexistent-root');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('/nonexistent-root /nonexistent-root none bind,ro 0 0');
    // The bind targets do not exist under this root, so they are skipped; the kernel file systems are not.
    expect(lines.slice(1).map((l) => l.split(' ')[1])).toEqual(['/nonexistent-root/proc', '/nonexistent-root/sys', '/nonexistent-root/dev', '/nonexistent-root/tmp', '/nonexistent-root/root']);
  });

  it("escapes spaces in the host's own /etc binds", () => {
    const text = containerFstab({ hosts: '/s/my hosts', resolvConf: '/s/resolv.conf', hostname: '/s/hostname' });
    expect(text).toContain('/s/my\\040hosts /etc/hosts none bind 0 0');
    expect(text).not.toContain('proc');
  });
});
