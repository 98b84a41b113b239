import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesce, DocumentNotOpenError, DocumentStore, EditHistory, TextDocument, trimCommon } from '../../daemon/workspace/index.js';

test('incremental changes apply in order, in the negotiated encoding', () => {
  const document = new TextDocument('file:///a.ts', 'typescript', 1, 'let 😀 = 1;\r\nfoo()\n');
  document.applyChanges([{ range: { start: { line: 0, character: 11 }, end: { line: 0, character: 12 } }, text: '2' }], 2, 'utf-8');
  assert.equal(document.text, 'let 😀 = 2;\r\nfoo()\n');
  document.applyChanges(
    [
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }, text: 'bar' },
      { range: { start: { line: 1, character: 5 }, end: { line: 1, character: 5 } }, text: ';' },
    ],
    3,
    'utf-16',
  );
  assert.equal(document.text, 'let 😀 = 2;\r\nbar();\n');
  assert.equal(document.version, 3);
});

test('a full change replaces the text, and is recorded as the minimal edit', () => {
  const history = new EditHistory();
  const store = new DocumentStore(history);
  store.open({ uri: 'file:///b.py', languageId: 'python', version: 1, text: 'def f(a):\n    return a\n' });
  store.change('file:///b.py', 2, [{ text: 'def f(a, b):\n    return a\n' }], 'utf-16');
  assert.deepEqual(
    history.editsOf('file:///b.py').map(({ offset, deletedText, insertedText }) => ({ offset, deletedText, insertedText })),
    [{ offset: 7, deletedText: '', insertedText: ', b' }],
  );
});

test('changes to an unopened document are refused with a clear error', () => {
  const store = new DocumentStore(new EditHistory());
  assert.throws(() => store.change('file:///nope', 1, [{ text: 'x' }], 'utf-16'), DocumentNotOpenError);
  assert.throws(() => store.require('file:///nope'), /send textDocument\/didOpen first/);
});

test('trimCommon keeps surrogate pairs whole', () => {
  const change = trimCommon({ offset: 0, deletedText: 'a😀', insertedText: 'a😃' });
  assert.equal(change.deletedText, '😀');
  assert.equal(change.insertedText, '😃');
});

test('coalesce merges typing, backspacing and retyping into one edit', () => {
  // Original "foo bar": type "baz" at 4 one char at a time, backspace once, type "r".
  let edit = { offset: 4, deletedText: '', insertedText: 'b' };
  for (const [offset, deletedText, insertedText] of [
    [5, '', 'a'],
    [6, '', 'z'],
    [6, 'z', ''],
    [6, '', 'r'],
  ] as const) {
    edit = coalesce(edit, { offset, deletedText, insertedText })!;
  }
  assert.deepEqual(edit, { offset: 4, deletedText: '', insertedText: 'bar' });
  // Deleting backwards past the inserted text extends the deletion into the original.
  const merged = coalesce({ offset: 4, deletedText: '', insertedText: 'x' }, { offset: 2, deletedText: 'o x', insertedText: '' });
  assert.deepEqual(merged, { offset: 2, deletedText: 'o ', insertedText: '' });
  // Apart: not merged.
  assert.equal(coalesce({ offset: 4, deletedText: '', insertedText: 'x' }, { offset: 9, deletedText: '', insertedText: 'y' }), undefined);
});

test('coalescing gives the same text as applying the changes one by one (property)', async () => {
  const fc = (await import('fast-check')).default;
  const apply = (text: string, c: { offset: number; deletedText: string; insertedText: string }) =>
    text.slice(0, c.offset) + c.insertedText + text.slice(c.offset + c.deletedText.length);
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(), fc.nat(), fc.string(), fc.nat(), fc.nat(), fc.string(), (base, a, b, ins1, c, d, ins2) => {
      const s1 = a % (base.length + 1);
      const e1 = s1 + (b % (base.length - s1 + 1));
      const first = { offset: s1, deletedText: base.slice(s1, e1), insertedText: ins1 };
      const mid = apply(base, first);
      const s2 = c % (mid.length + 1);
      const e2 = s2 + (d % (mid.length - s2 + 1));
      const second = { offset: s2, deletedText: mid.slice(s2, e2), insertedText: ins2 };
      const merged = coalesce(first, second);
      if (!merged) return;
      assert.equal(base.slice(merged.offset, merged.offset + merged.deletedText.length), merged.deletedText);
      assert.equal(apply(base, merged), apply(mid, second));
    }),
    { numRuns: 500 },
  );
});

test('the history coalesces bursts by time and bounds itself', () => {
  const history = new EditHistory({ coalesceMs: 100, maxEditsPerFile: 3, maxFiles: 2 });
  history.record('a', 2, [{ offset: 0, deletedText: '', insertedText: 'x' }], 1000);
  history.record('a', 3, [{ offset: 1, deletedText: '', insertedText: 'y' }], 1050);
  history.record('a', 4, [{ offset: 2, deletedText: '', insertedText: 'z' }], 1300); // pause: new edit
  assert.deepEqual(history.editsOf('a').map((e) => e.insertedText), ['xy', 'z']);
  for (let i = 0; i < 5; i++) history.record('a', 5 + i, [{ offset: 0, deletedText: '', insertedText: String(i) }], 2000 + i * 1000);
  assert.equal(history.editsOf('a').length, 3);
  history.record('b', 1, [{ offset: 0, deletedText: '', insertedText: 'b' }], 9000);
  history.record('c', 1, [{ offset: 0, deletedText: '', insertedText: 'c' }], 9001);
  assert.equal(history.editsOf('a').length, 0, 'least recently edited file evicted');
  assert.deepEqual(history.recent(2).map((e) => e.uri), ['c', 'b']);
  // A burst that cancels itself leaves nothing.
  history.record('b', 2, [{ offset: 1, deletedText: '', insertedText: 'q' }], 20000);
  history.record('b', 3, [{ offset: 1, deletedText: 'q', insertedText: '' }], 20010);
  assert.deepEqual(history.editsOf('b').map((e) => e.insertedText), ['b']);
});
