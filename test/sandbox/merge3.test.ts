import assert from 'node:assert/strict';
import { test } from 'node:test';
import { merge3, splitLines } from '../../sandbox/merge3.js';
import { safeRelativePath } from '../../sandbox/safe-path.js';
import { parseEslint, parseTsc, parseWithPattern } from '../../sandbox/checkers.js';
import { parseMountInfo } from '../../sandbox/mounts.js';

test('merge3 combines edits to different lines', () => {
  assert.deepEqual(merge3('a\nb\nc\nd\n', 'A\nb\nc\nd\n', 'a\nb\nc\nD\n'), { text: 'A\nb\nc\nD\n', conflicts: 0 });
});
test('merge3 reports overlapping different edits as conflicts', () => {
  const result = merge3('a\nb\nc\n', 'a\nX\nc\n', 'a\nY\nc\n');
  assert.equal(result.conflicts, 1);
  assert.match(result.text, /<<<<<<< yours\nX\n\|\|\|\|\|\|\| base\nb\n=======\nY\n>>>>>>> shadow\n/);
});
test('merge3 takes identical edits once, and one-sided changes whole', () => {
  assert.equal(merge3('a\nb\n', 'a\nB\n', 'a\nB\n').text, 'a\nB\n');
  assert.equal(merge3('a\n', 'a\n', 'a\nb\n').text, 'a\nb\n');
  assert.equal(merge3('a\nb\n', 'a\nb\nc\n', 'z\na\nb\n').text, 'z\na\nb\nc\n');
});
test('splitLines keeps line endings and a last line without newline', () => {
  assert.deepEqual(splitLines('a\r\nb\nc'), ['a\r\n', 'b\n', 'c']);
  assert.equal(splitLines('x\ny').join(''), 'x\ny');
});
test('safeRelativePath refuses paths that leave the workspace', () => {
  assert.equal(safeRelativePath('./src//a.ts'), 'src/a.ts');
  assert.throws(() => safeRelativePath('../etc/passwd'), /climbs out/);
  assert.throws(() => safeRelativePath('src/../../x'), /climbs out/);
  assert.throws(() => safeRelativePath('/etc/passwd'), /absolute/);
  assert.throws(() => safeRelativePath('a\0b'), /NUL/);
  assert.equal(safeRelativePath('new\nline'), 'new\nline');
});
test('checker output parsers', () => {
  const tsc = parseTsc("src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n  more detail\n");
  assert.equal(tsc.length, 1);
  assert.equal(tsc[0]!.file, 'src/a.ts');
  assert.deepEqual(tsc[0]!.diagnostic.range.start, { line: 2, character: 6 });
  assert.equal(tsc[0]!.diagnostic.code, 'TS2322');
  assert.match(tsc[0]!.diagnostic.message, /more detail/);
  const eslint = parseEslint(JSON.stringify([{ filePath: '/s/a.js', messages: [{ ruleId: 'no-unused-vars', severity: 2, message: 'x unused', line: 1, column: 5 }] }]));
  assert.equal(eslint[0]!.diagnostic.severity, 1);
  assert.equal(eslint[0]!.diagnostic.code, 'no-unused-vars');
  const custom = parseWithPattern('lib/x.py:10:2: warning W1: bad\n', '^(?<file>[^:]+):(?<line>\\d+):(?<column>\\d+): (?<severity>\\w+) (?<code>\\w+): (?<message>.*)$', 'pylint');
  assert.equal(custom[0]!.diagnostic.severity, 2);
  assert.equal(custom[0]!.diagnostic.source, 'pylint');
});
test('mountinfo parsing decodes escaped mount points', () => {
  const entries = parseMountInfo('36 35 0:40 / /tmp/a\\040b rw,nosuid - fuse.caret caret-shadow rw\n');
  assert.deepEqual(entries, [{ mountPoint: '/tmp/a b', fsType: 'fuse.caret', source: 'caret-shadow' }]);
});
