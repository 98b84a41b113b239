import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProgressiveDiff } from '../../daemon/apply/index.js';
import { diffTexts } from '../../daemon/diff/index.js';

const original = Array.from({ length: 30 }, (_, i) => `line ${i} of the file`).join('\n') + '\n';

test('a region streams as soon as three output lines after it line up with the original again', () => {
  const output = original.replace('line 5 of the file\n', 'line 5 changed\n').replace('line 20 of the file\n', '');
  const diff = new ProgressiveDiff(original);
  const streamedAt: number[] = [];
  for (let end = 1; end <= output.length; end++) {
    const fresh = diff.feed(output.slice(0, end));
    if (fresh.length) streamedAt.push(end);
  }
  assert.equal(streamedAt.length, 2, 'each region streams once, while the output is still being written');
  assert.equal(streamedAt[0], output.indexOf('line 9 of'), 'the first region streams as soon as line 8 (the third matching line) is complete');
  const rest = diff.finish(output);
  assert.deepEqual(rest, []);
  assert.deepEqual(
    diff.hunks.map((h) => [h.oldText, h.newText]),
    [
      ['line 5 of the file\n', 'line 5 changed\n'],
      ['line 20 of the file\n', ''],
    ],
  );
});

test('streamed hunks plus the last segment rebuild the output exactly (property)', () => {
  const lines = fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', 'x\n', 'y\n', '\n', 'z'), { maxLength: 40 });
  fc.assert(
    fc.property(lines, lines, fc.array(fc.nat(), { maxLength: 10 }), (a, b, cuts) => {
      const before = a.join('');
      const after = b.join('');
      const diff = new ProgressiveDiff(before);
      for (const cut of [...cuts].sort((x, y) => x - y)) diff.feed(after.slice(0, cut % (after.length + 1)));
      diff.finish(after);
      let rebuilt = before;
      for (const hunk of [...diff.hunks].reverse()) {
        assert.equal(before.slice(hunk.oldOffset, hunk.oldEndOffset), hunk.oldText);
        assert.equal(after.slice(hunk.newOffset, hunk.newEndOffset), hunk.newText);
        rebuilt = rebuilt.slice(0, hunk.oldOffset) + hunk.newText + rebuilt.slice(hunk.oldEndOffset);
      }
      assert.equal(rebuilt, after);
      // Never more hunks than the text has changed lines.
      assert.ok(diff.hunks.length <= Math.max(1, diffTexts(before, after).reduce((n, h) => n + (h.oldEnd - h.oldStart) + (h.newEnd - h.newStart), 0)));
    }),
    { numRuns: 300 },
  );
});
