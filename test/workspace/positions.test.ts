import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { computeLineStarts, encodedLength, negotiatePositionEncoding, offsetAt, positionAt } from '../../daemon/workspace/index.js';

// "a😀b" — the emoji is 2 UTF-16 units, 4 UTF-8 bytes, 1 code point.
const text = 'x\r\n\ta😀b\ré\nlast';
const starts = computeLineStarts(text);

test('line starts follow \\n, \\r\\n and \\r', () => {
  assert.deepEqual(starts, [0, 3, 9, 11]);
});

test('offsetAt counts characters in each encoding', () => {
  // Line 1 is "\ta😀b"; the "b" follows the emoji.
  assert.equal(offsetAt(text, starts, { line: 1, character: 4 }, 'utf-16'), 3 + 4);
  assert.equal(offsetAt(text, starts, { line: 1, character: 6 }, 'utf-8'), 3 + 4);
  assert.equal(offsetAt(text, starts, { line: 1, character: 3 }, 'utf-32'), 3 + 4);
  // "é" is 2 UTF-8 bytes.
  assert.equal(offsetAt(text, starts, { line: 2, character: 2 }, 'utf-8'), 10);
});

test('a position inside a surrogate pair or a UTF-8 sequence snaps to the character start', () => {
  assert.equal(offsetAt(text, starts, { line: 1, character: 3 }, 'utf-16'), 3 + 2);
  assert.equal(offsetAt(text, starts, { line: 1, character: 4 }, 'utf-8'), 3 + 2);
});

test('out-of-range positions clamp to the line end and the document end', () => {
  assert.equal(offsetAt(text, starts, { line: 0, character: 99 }, 'utf-16'), 1);
  assert.equal(offsetAt(text, starts, { line: 2, character: 99 }, "utf-8"), 10);
  assert.equal(offsetAt(text, starts, { line: 40, character: 0 }, 'utf-16'), text.length);
});

test('positionAt inverts offsetAt in every encoding', () => {
  for (const encoding of ['utf-16', 'utf-8', 'utf-32'] as const) {
    for (let offset = 0; offset <= text.length; offset++) {
      // Skip offsets inside a surrogate pair or a line terminator: not positions.
      if (offset === 3 + 3 || offset === 2) continue;
      const position = positionAt(text, starts, offset, encoding);
      assert.equal(offsetAt(text, starts, position, encoding), offset, `${encoding} @${offset}`);
    }
  }
});

test('round trip holds for arbitrary unicode text (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.constantFrom('utf-16', 'utf-8', 'utf-32' as const), (sample, encoding) => {
      const lineStarts = computeLineStarts(sample);
      for (let line = 0; line < lineStarts.length; line++) {
        const start = lineStarts[line]!;
        const position = positionAt(sample, lineStarts, start, encoding);
        assert.deepEqual(position, { line, character: 0 });
      }
      const end = positionAt(sample, lineStarts, sample.length, encoding);
      const lastLine = sample.slice(lineStarts[lineStarts.length - 1]);
      assert.equal(end.character, encodedLength(lastLine, encoding));
    }),
    { numRuns: 300 },
  );
});

test('encoding negotiation picks the first supported offer, utf-16 by default', () => {
  assert.equal(negotiatePositionEncoding(undefined), 'utf-16');
  assert.equal(negotiatePositionEncoding(['utf-8', 'utf-16']), 'utf-8');
  assert.equal(negotiatePositionEncoding(['latin-1', 'utf-32']), 'utf-32');
  assert.equal(negotiatePositionEncoding(['ucs-2']), 'utf-16');
});
