// `caret apply` against a real daemon process: the printed diff applies with `git apply
// --unidiff-zero` to give the merged file, and the command itself never writes the file.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { unifiedDiff } from '../../daemon/cli/apply-commands.js';
import { cliPath, makeTestEnv, spawnDaemonProcess, waitForExit } from '../helpers/index.js';

test('unifiedDiff numbers insertions and deletions like diff -U0', () => {
  const at = (line: number) => ({ start: { line } });
  assert.equal(
    unifiedDiff('a.txt', [
      { oldRange: at(1), newRange: at(1), oldText: 'b\n', newText: 'B\nB2\n', importance: 'normal' },
      { oldRange: at(3), newRange: at(4), oldText: '', newText: 'd\n', importance: 'normal' },
    ]),
    '--- a/a.txt\n+++ b/a.txt\n@@ -2,1 +2,2 @@\n-b\n+B\n+B2\n@@ -3,0 +5,1 @@\n+d\n',
  );
});

test('caret apply prints a patch that reproduces the merge, and leaves the file alone', async () => {
  const env = makeTestEnv();
  const dir = mkdtempSync('/tmp/caret-apply-cli-');
  const daemon = await spawnDaemonProcess(env);
  try {
    const original = 'def area(r):\n    return 3.14 * r * r\n\n\ndef perimeter(r):\n    return 2 * 3.14 * r\n';
    writeFileSync(join(dir, 'shapes.py'), original);
    writeFileSync(join(dir, 'sketch.py'), '# ... existing code ...\ndef perimeter(r):\n    """Circumference."""\n    return 2 * 3.14 * r\n');
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const run = spawnSync(process.execPath, [cliPath, 'apply', 'shapes.py', 'sketch.py'], { cwd: dir, env: env.env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^--- a\/shapes.py\n\+\+\+ b\/shapes.py\n@@ -5,0 \+6,1 @@\n\+    """Circumference."""\n$/);
    assert.match(run.stderr, /was not written/);
    assert.equal(readFileSync(join(dir, 'shapes.py'), 'utf8'), original);
    execFileSync('git', ['apply', '--unidiff-zero', '-'], { cwd: dir, input: run.stdout });
    assert.equal(readFileSync(join(dir, 'shapes.py'), 'utf8'), original.replace('def perimeter(r):\n', 'def perimeter(r):\n    """Circumference."""\n'));

    const unresolved = spawnSync(process.execPath, [cliPath, 'apply', 'shapes.py', '-'], { cwd: dir, env: env.env, encoding: 'utf8', input: 'fn main() {}\n' });
    assert.equal(unresolved.status, 1);
    assert.match(unresolved.stderr, /noAnchors/);
  } finally {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    env.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
