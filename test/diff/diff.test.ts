import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  diffTexts,
  dominantEol,
  isPureRename,
  isWhitespaceOnly,
  reviewHunks,
  splitLines,
  topologicalOrder,
  wordEdits,
} from '../../daemon/diff/index.js';

test('splitLines keeps terminators so joining gives the text back', () => {
  assert.deepEqual(splitLines('a\r\nb\nc\rd'), ['a\r\n', 'b\n', 'c\r', 'd']);
  assert.deepEqual(splitLines(''), []);
  assert.deepEqual(splitLines('x\n'), ['x\n']);
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', ' ') }), (text) => splitLines(text).join('') === text));
});

test('dominantEol picks what most lines use', () => {
  assert.equal(dominantEol('a\r\nb\r\nc\n'), '\r\n');
  assert.equal(dominantEol('a\nb'), '\n');
  assert.equal(dominantEol('no newline'), '\n');
});

test('diffTexts returns whole-line hunks with offsets that rebuild the new text', () => {
  const oldText = 'one\ntwo\nthree\nfour\nfive\n';
  const newText = 'one\nTWO\nthree\nfour\nfour and a half\nfive\n';
  const hunks = diffTexts(oldText, newText);
  assert.equal(hunks.length, 2);
  assert.deepEqual(
    hunks.map(({ oldStart, oldEnd, newStart, newEnd, oldText: o, newText: n }) => ({ oldStart, oldEnd, newStart, newEnd, o, n })),
    [
      { oldStart: 1, oldEnd: 2, newStart: 1, newEnd: 2, o: 'two\n', n: 'TWO\n' },
      { oldStart: 4, oldEnd: 4, newStart: 4, newEnd: 5, o: '', n: 'four and a half\n' },
    ],
  );
});

test('applying the hunks to the old text gives the new text (property)', () => {
  const lines = fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', '}\n', '\n', 'x', 'y\r\n'), { maxLength: 30 });
  fc.assert(
    fc.property(lines, lines, (a, b) => {
      const oldText = a.join('');
      const newText = b.join('');
      let result = oldText;
      for (const hunk of [...diffTexts(oldText, newText)].reverse()) {
        assert.equal(oldText.slice(hunk.oldOffset, hunk.oldEndOffset), hunk.oldText);
        assert.equal(newText.slice(hunk.newOffset, hunk.newEndOffset), hunk.newText);
        result = result.slice(0, hunk.oldOffset) + hunk.newText + result.slice(hunk.oldEndOffset);
      }
      return result === newText;
    }),
    { numRuns: 300 },
  );
});

test('word edits point at the changed words inside a hunk', () => {
  const [hunk] = diffTexts('const total = price * count;\n', 'const total = price * quantity;\n');
  const edits = wordEdits(hunk!);
  assert.deepEqual(edits, [
    { kind: 'delete', offset: 22, text: 'count' },
    { kind: 'insert', offset: 22, text: 'quantity' },
  ]);
  const [insertion] = diffTexts('a\n', 'a\nb\n');
  assert.deepEqual(wordEdits(insertion!), [{ kind: 'insert', offset: 2, text: 'b\n' }]);
});

test('whitespace-only and pure-rename hunks are recognised, other changes are not', () => {
  assert.ok(isWhitespaceOnly({ oldText: 'if (a) {\n  b();\n}\n', newText: 'if (a) {\n    b();\n}\n' }));
  assert.ok(!isWhitespaceOnly({ oldText: 'a + b', newText: 'a - b' }));
  assert.ok(isPureRename({ oldText: 'const n = count(x);\nreturn n;\n', newText: 'const total = count(x);\nreturn total;\n' }));
  assert.ok(!isPureRename({ oldText: 'return n + 1;', newText: 'return m + 2;' }), 'a literal changed too');
  assert.ok(!isPureRename({ oldText: 'f(a, a)', newText: 'f(b, c)' }), 'one name cannot become two');
  assert.ok(!isPureRename({ oldText: 'return x;', newText: 'throw x;' }), 'keywords are not names');
});

test('review marks low importance and puts a definition before its uses', () => {
  const hunks = [
    { oldText: '  total += price(item);\n', newText: '  total += priceWithTax(item, rate);\n' },
    { oldText: 'x  =  1\n', newText: 'x = 1\n' },
    { oldText: 'function price(item) {\n', newText: 'function priceWithTax(item, rate) {\n' },
    { oldText: 'log(a)\n', newText: 'log(a, level)\n' },
    { oldText: 'log(a)\n', newText: 'log(a, level)\n' },
  ];
  const reviews = reviewHunks(hunks);
  assert.equal(reviews[2]!.order, 0, 'the definition is read first');
  assert.equal(reviews[2]!.importance, 'high');
  assert.deepEqual(reviews[2]!.reasons, ['definition']);
  assert.ok(reviews[0]!.order > reviews[2]!.order);
  assert.equal(reviews[1]!.importance, 'low');
  assert.deepEqual(reviews[1]!.reasons, ['whitespace']);
  assert.equal(reviews[3]!.importance, 'normal', 'the first of a repeated change still needs reading');
  assert.equal(reviews[4]!.importance, 'low');
  assert.deepEqual(reviews[4]!.reasons, ['repeated']);
  assert.deepEqual([...reviews.map((r) => r.order)].sort(), [0, 1, 2, 3, 4]);
});

test('reading order pulls prerequisites just before their first use and keeps document order otherwise', () => {
  assert.deepEqual(topologicalOrder(3, [new Set(), new Set(), new Set()]), [0, 1, 2]);
  assert.deepEqual(topologicalOrder(3, [new Set([2]), new Set(), new Set()]), [1, 2, 0], 'hunk 2 moves to just before hunk 0');
  assert.deepEqual(topologicalOrder(2, [new Set([1]), new Set([0])]), [1, 0], 'a cycle is cut where it is entered');
  assert.deepEqual(topologicalOrder(4, [new Set(), new Set([3]), new Set(), new Set([2])]), [0, 3, 1, 2], 'chains are followed');
});
