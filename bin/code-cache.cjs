// Loads plumb's CommonJS bundle with a V8 code cache, so a plumb process does
// not compile the same ~500 KB of JavaScript on every start (Node 20 has no
// compile cache of its own). The cache is only ever a shortcut:
//   - one cache file per command word (`run`, `ps`, ...), written when a
//     process of that command exits without having had a usable one, so it
//     holds the functions that command actually compiled;
//   - its first line names the bundle it was made from (size, mtime, inode)
//     and the Node build; any difference and it is ignored, and V8 rejects
//     caches from another V8 or another source on its own;
//   - written to a temporary file and renamed into place, so a reader never
//     sees half a cache; any failure to read or write it is ignored.
// The bundle must not use import(): in Node 20 a script compiled from a code
// cache has no dynamic-import callback (scripts/bundle.mjs turns them into
// require()).
'use strict';
const { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

/** What a cache must have been made from: this exact bundle file, this Node. */
function stampOf(stat) {
  return `plumb-code-cache 1 ${stat.size} ${stat.mtimeMs} ${stat.ino} ${process.version} ${process.arch}\n`;
}

/** The cached bytes if the cache file exists and was made from this bundle; else why not. */
function readCache(cacheFile, stamp) {
  let buf;
  try {
    buf = readFileSync(cacheFile);
  } catch {
    return { state: 'absent' };
  }
  const head = Buffer.from(stamp);
  if (buf.length > head.length && buf.subarray(0, head.length).equals(head)) return { data: buf.subarray(head.length) };
  return { state: 'stale' };
}

function writeCache(cacheFile, stamp, data) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(stamp), data]));
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** A name usable in a file name for the cache of `word` (the command); anything odd shares one cache. */
function cacheKey(word) {
  return typeof word === 'string' && /^[a-z]{1,20}$/.test(word) ? word : 'other';
}

/**
 * Runs the CommonJS bundle at `file` and returns its exports, compiling it
 * from the cache for `word` when there is a valid one, and leaving one for
 * the next process when there is not. `onCache` hears what became of the
 * cache: 'used', 'absent', 'stale' (made from another bundle or Node) or
 * 'rejected' (by V8).
 */
function loadBundle(file, word, onCache) {
  const fd = openSync(file, 'r');
  let source;
  let stamp;
  try {
    stamp = stampOf(fstatSync(fd));
    // Pure ASCII (scripts/bundle.mjs checks): latin1 copies the bytes, the same text as UTF-8 decoding, ~1 ms sooner.
    source = readFileSync(fd, 'latin1');
  } finally {
    closeSync(fd);
  }
  const cacheFile = `${file}.${cacheKey(word)}.v8cache`;
  const cached = readCache(cacheFile, stamp);
  // The same wrapper Node puts around a CommonJS module.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData: cached.data,
  });
  const state = cached.data ? (script.cachedDataRejected ? 'rejected' : 'used') : cached.state;
  onCache?.(state);
  if (state !== 'used') {
    // At exit the cache also holds every function this command compiled while it ran.
    process.once('exit', () => {
      try {
        writeCache(cacheFile, stamp, script.createCachedData());
      } catch {
        /* a cache is never required */
      }
    });
  }
  const mod = new Module(file);
  mod.filename = file;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return mod.exports;
}

module.exports = { loadBundle };
