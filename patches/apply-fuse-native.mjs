#!/usr/bin/env node
// Patches fuse-native 2.2.6 (unmaintained) and rebuilds its native binding from source, so shadow
// workspaces get: nanosecond timestamps (upstream truncates to ms), utimens with the real mtime
// (upstream passes atime twice), 64-bit inode numbers plus the use_ino/readdir_ino/big_writes/
// max_write/negative_timeout mount options, the calling process's uid/gid/pid/umask
// (fuse_get_context) so files are created with the caller's ownership, a nanosecond
// utimensat(2) that Node's fs lacks, kernel cache control (a channel of its own between libfuse and
// /dev/fuse that learns the kernel's node ids, so single paths can be invalidated and validities
// lengthened), read-only opens of lower files served without the JavaScript, and kernel FUSE
// passthrough for reads of large lower files (the kernel reads the user's file itself; asked for in
// the INIT reply, used only where the kernel grants it). See docs/shadow.md.
//
// Idempotent: a marker file records the patch's hash. Builds with node-gyp against the libfuse
// 2.9 headers bundled in fuse-shared-library-linux (no libfuse-dev needed) and Node's own headers.
// Usage: node patches/apply-fuse-native.mjs [--force]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const patchFile = join(here, 'fuse-native+2.2.6.patch');
const require = createRequire(join(here, '..', 'package.json'));

let packageDir;
try {
  packageDir = dirname(require.resolve('fuse-native/package.json'));
} catch {
  console.log('fuse-native is not installed; shadow workspaces will use copy mode.');
  process.exit(0);
}
if (process.platform !== 'linux') {
  console.log('fuse-native patch: Linux only; skipped.');
  process.exit(0);
}
const version = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
if (version !== '2.2.6') {
  console.error(`fuse-native patch: written for 2.2.6, found ${version}; not applied (shadow mounts fall back to copy mode).`);
  process.exit(0);
}

const patch = readFileSync(patchFile);
const hash = createHash('sha256').update(patch).digest('hex').slice(0, 16);
const marker = join(packageDir, '.caret-patch');
const force = process.argv.includes('--force');
const applied = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : '';

if (applied !== hash || force) {
  if (applied && applied !== hash) {
    console.error('fuse-native carries an older caret patch; reinstall it (npm ci) and run this again.');
    process.exit(1);
  }
  if (!applied) {
    execFileSync('patch', ['-p1', '--forward', '--batch', '-i', patchFile], { cwd: packageDir, stdio: 'inherit' });
    writeFileSync(marker, hash + '\n');
  }
}

// Rebuild the binding (node-gyp-build prefers build/Release over the unpatched prebuilds).
const nodeGyp = findNodeGyp();
const nodedir = dirname(dirname(process.execPath));
const args = [nodeGyp, 'rebuild'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
execFileSync(process.execPath, args, { cwd: packageDir, stdio: 'inherit' });

// Check that the rebuilt binding is the patched one.
const probe = `const F = require(${JSON.stringify(packageDir)}); if (!F.CARET_PATCH || typeof F.utimensat !== 'function') process.exit(3)`;
execFileSync(process.execPath, ['-e', probe], { stdio: 'inherit' });
console.log('fuse-native: patched and rebuilt.');

function findNodeGyp() {
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.unshift(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  throw new Error('node-gyp not found: install it (npm install -g node-gyp) and run this again.');
}
