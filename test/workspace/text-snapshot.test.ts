import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PositionEncodingKind } from '../../protocol/index.js';
import { computeLineStarts, type ContentChange, offsetAt, positionAt, TextDocument, TextSnapshot, trimCommon } from '../../daemon/workspace/index.js';

const encodings: PositionEncodingKind[] = ['utf-16', 'utf-8', 'utf-32'];

// Text made of pieces that stress the edges: every line terminator, surrogate pairs (also split
// ones), multi-byte characters, and long runs so that documents span many chunks.
const piece = fc.constantFrom('a', 'xyz', ' ', '\t', '\n', '\r', '\r\n', '😀', '\ud83d', '\ude00', 'é', '中', 'line of code();\n', 'x'.repeat(700), 'y'.repeat(2100) + '\r');
const textArb = fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join(''));

/** A document as the plain-string reference computes it. */
function reference(text: string) {
  const starts = computeLineStarts(text);
  return {
    offsetAt: (line: number, character: number, encoding: PositionEncodingKind) => offsetAt(text, starts, { line, character }, encoding),
    positionAt: (offset: number, encoding: PositionEncodingKind) => positionAt(text, starts, offset, encoding),
    starts,
  };
}

function assertSame(snapshot: TextSnapshot, text: string, probes: ReadonlyArray<readonly [number, number]>): void {
  assert.equal(snapshot.length, text.length);
  const ref = reference(text);
  assert.equal(snapshot.lineCount, ref.starts.length);
  for (const [a, b] of probes) {
    const from = a % (text.length + 2);
    const to = b % (text.length + 2);
    assert.equal(snapshot.slice(from, to), text.slice(from, to), `slice ${from}..${to}`);
    const line = a % (ref.starts.length + 2);
    assert.equal(snapshot.lineStart(line), line < ref.starts.length ? ref.starts[line] : text.length);
    assert.equal(snapshot.lineAt(from), ref.positionAt(from, 'utf-16').line);
    for (const encoding of encodings) {
      assert.equal(snapshot.offsetAt({ line, character: b % 40 }, encoding), ref.offsetAt(line, b % 40, encoding), `offsetAt ${line}:${b % 40} ${encoding}`);
      assert.deepEqual(snapshot.positionAt(from, encoding), ref.positionAt(from, encoding), `positionAt ${from} ${encoding}`);
    }
  }
}

const probesArb = fc.array(fc.tuple(fc.nat(100_000), fc.nat(100_000)), { minLength: 1, maxLength: 12 });

test('a snapshot reads as the plain string does: slices, lines and positions in every encoding', () => {
  fc.assert(
    fc.property(textArb, probesArb, (text, probes) => {
      const snapshot = TextSnapshot.of(text);
      assertSame(snapshot, text, probes);
      assert.equal(snapshot.text, text);
      assert.deepEqual(snapshot.lineStarts, computeLineStarts(text));
    }),
    { numRuns: 300 },
  );
});

test('random edit sequences keep a snapshot equal to the plain string', () => {
  const edit = fc.tuple(fc.nat(100_000), fc.nat(100_000), fc.array(piece, { maxLength: 4 }).map((pieces) => pieces.join('')));
  fc.assert(
    fc.property(textArb, fc.array(edit, { minLength: 1, maxLength: 30 }), probesArb, (initial, edits, probes) => {
      let text = initial;
      let snapshot = TextSnapshot.of(initial);
      for (const [a, b, inserted] of edits) {
        const start = a % (text.length + 1);
        const end = b % (text.length + 1);
        const [from, to] = start <= end ? [start, end] : [end, start];
        text = text.slice(0, from) + inserted + text.slice(to);
        snapshot = snapshot.replace(start, end, inserted);
        assertSame(snapshot, text, probes);
      }
      assert.deepEqual(snapshot.lineStarts, computeLineStarts(text));
      assert.equal(snapshot.text, text);
    }),
    { numRuns: 300 },
  );
});

test('a document applying LSP changes matches the plain-string document of before', () => {
  // The reference: the text kept as one string, changes applied through positions.ts.
  const referenceApply = (content: string, changes: readonly ContentChange[], encoding: PositionEncodingKind) => {
    const applied = [];
    for (const change of changes) {
      let start = 0;
      let end = content.length;
      if ('range' in change) {
        const starts = computeLineStarts(content);
        start = offsetAt(content, starts, change.range.start, encoding);
        end = offsetAt(content, starts, change.range.end, encoding);
        if (end < start) [start, end] = [end, start];
      }
      const deletedText = content.slice(start, end);
      if (deletedText === change.text) continue;
      content = content.slice(0, start) + change.text + content.slice(end);
      applied.push(trimCommon({ offset: start, deletedText, insertedText: change.text }));
    }
    return { content, applied };
  };
  const position = fc.record({ line: fc.nat(60), character: fc.nat(30) });
  const inserted = fc.array(piece, { maxLength: 3 }).map((pieces) => pieces.join(''));
  const change: fc.Arbitrary<ContentChange> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ range: fc.record({ start: position, end: position }), text: inserted }) },
    { weight: 1, arbitrary: fc.record({ text: inserted }) },
  );
  fc.assert(
    fc.property(textArb, fc.constantFrom(...encodings), fc.array(fc.array(change, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 15 }), (initial, encoding, batches) => {
      const document = new TextDocument('file:///p.ts', 'typescript', 1, initial);
      let text = initial;
      let version = 1;
      for (const batch of batches) {
        const expected = referenceApply(text, batch, encoding);
        text = expected.content;
        assert.deepEqual(document.applyChanges(batch, ++version, encoding), expected.applied);
        assert.equal(document.length, text.length);
        assert.equal(document.snapshot.slice(0, text.length), text);
      }
      assert.equal(document.text, text);
      assert.equal(document.version, version);
    }),
    { numRuns: 200 },
  );
});

test('a keystroke re-splits one region: other chunks and other versions stay as they were', () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `  const value${i} = await store.get(request.params.id${i % 13});`);
  const text = lines.join('\n') + '\n';
  const before = TextSnapshot.of(text);
  const at = before.lineStart(2500) + 10;
  const after = before.replace(at, at, 'x');
  assert.equal(after.slice(at - 10, at + 1), '  const vax');
  assert.equal(before.slice(at - 10, at + 1), '  const val', 'the old version is untouched');
  assert.equal(after.lineStart(2501), before.lineStart(2501) + 1);
  assert.equal(after.lineCount, 5001);
  assert.equal(after.offsetAt({ line: 2500, character: 11 }, 'utf-16'), at + 1);
  // The edit and these reads went through the chunks: nothing joined the whole text.
  assert.equal((after as unknown as { joined?: string }).joined, undefined);
  // A "\n" typed after a "\r" at a chunk's end joins it into one terminator.
  const crText = 'a'.repeat(3000) + '\r' + 'b'.repeat(3000);
  const cr = TextSnapshot.of(crText).replace(3001, 3001, '\n');
  assert.equal(cr.lineCount, 2);
  assert.equal(cr.lineStart(1), 3002);
  assert.deepEqual(cr.positionAt(3001, 'utf-16'), { line: 0, character: 3000 });
});

test('chunks stay large under typing at one place and under scattered edits', () => {
  const chunkCount = (snapshot: TextSnapshot) => (snapshot as unknown as { chunks: unknown[] }).chunks.length;
  const lines = Array.from({ length: 5000 }, (_, i) => `  const value${i} = await store.get(request.params.id${i % 13});`);
  let snapshot = TextSnapshot.of(lines.join('\n') + '\n');
  const before = chunkCount(snapshot);
  for (let i = 0; i < 20_000; i++) {
    const at = snapshot.lineStart(2500) + 5;
    snapshot = snapshot.replace(at, at, i % 50 === 0 ? '\n' : 'y');
  }
  // 20,000 characters typed make new chunks of 512 characters or more, not slivers.
  assert.ok(chunkCount(snapshot) - before <= 20_000 / 512, `${chunkCount(snapshot) - before} new chunks`);
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) % n;
  for (let i = 0; i < 20_000; i++) {
    const at = random(snapshot.length + 1);
    snapshot = i % 2 ? snapshot.replace(at, Math.min(snapshot.length, at + random(20)), '') : snapshot.replace(at, at, i % 3 ? 'z' : '\n');
  }
  assert.ok(snapshot.length / chunkCount(snapshot) >= 512, `${chunkCount(snapshot)} chunks for ${snapshot.length} characters`);
});

test('out-of-range positions clamp to the line and the document end, as before', () => {
  const snapshot = TextSnapshot.of('ab\r\ncd');
  assert.equal(snapshot.offsetAt({ line: 0, character: 99 }, 'utf-16'), 2);
  assert.equal(snapshot.offsetAt({ line: 9, character: 0 }, 'utf-8'), 6);
  assert.deepEqual(snapshot.positionAt(99, 'utf-16'), { line: 1, character: 2 });
  assert.deepEqual(snapshot.positionAt(3, 'utf-16'), { line: 0, character: 2 }, 'inside \\r\\n: the end of the line');
  assert.equal(snapshot.slice(-5, 99), 'ab\r\ncd');
  assert.equal(TextSnapshot.of('').replace(0, 0, '').lineCount, 1);
});
