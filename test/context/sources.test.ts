import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EstimatedTokenCounter, editElements, renderPrompt, SnippetRing } from '../../daemon/context/index.js';

describe('prompt sources', () => {
  it('turns recent edits into -/+ elements, oldest first, newest kept', () => {
    const edits = [
      { uri: 'file:///w/a.ts', offset: 10, deletedText: 'total', insertedText: 'sum', startedAt: 300 },
      { uri: 'file:///w/b.ts', offset: 0, deletedText: '', insertedText: 'import x from "x";\n', startedAt: 100 },
      { uri: 'file:///w/a.ts', offset: 5, deletedText: ' ', insertedText: '  ', startedAt: 400 },
      { uri: 'file:///w/c.ts', offset: 0, deletedText: 'old', insertedText: 'new', startedAt: 200 },
    ];
    const elements = editElements(edits, { pathOf: (uri) => uri.replace('file:///w/', ''), limit: 2 });
    assert.deepEqual(
      elements.map((e) => [e.path, e.text, e.order]),
      [
        ['c.ts', '-old\n+new', 200],
        ['a.ts', '-total\n+sum', 300],
      ],
    );
  });

  it('keeps distinct snippets in a bounded ring with stable order', () => {
    const ring = new SnippetRing(3);
    ring.add({ path: 'a.ts', start: 0, end: 3, text: 'const alpha = 1;\nconst beta = 2;\nconst gamma = 3;' });
    ring.add({ path: 'b.ts', start: 0, end: 2, text: 'function one() {}\nfunction two() {}' });
    // Nearly the same lines as a.ts: replaces it instead of sitting beside it.
    ring.add({ path: 'a.ts', start: 0, end: 3, text: 'const alpha = 1;\nconst beta = 2;\nconst gamma = 3;\n' });
    assert.deepEqual(ring.elements().map((e) => [e.path, e.order]), [['b.ts', 1], ['a.ts', 2]]);
    ring.add({ path: 'c.ts', start: 5, end: 6, text: 'export const delta = 4;' });
    ring.add({ path: 'd.ts', start: 0, end: 1, text: 'export const epsilon = 5;' });
    assert.deepEqual(ring.elements().map((e) => e.path), ['a.ts', 'c.ts', 'd.ts'], 'the oldest left');
    ring.add({ path: 'c.ts', start: 5, end: 6, text: 'export const delta = 4;' });
    assert.deepEqual(ring.elements().map((e) => e.path), ['a.ts', 'c.ts', 'd.ts'], 'an unchanged snippet keeps its place');
    ring.forget('c.ts');
    assert.equal(ring.size, 2);
    ring.add({ path: 'e.ts', start: 0, end: 1, text: '}' });
    assert.equal(ring.size, 2, 'a snippet with nothing meaningful is not kept');
  });

  it('feeds the renderer', () => {
    const ring = new SnippetRing();
    ring.add({ path: 'lib.ts', start: 0, end: 1, text: 'export function helper(x: number) { return x * 2; }' });
    const edits = editElements([{ uri: 'u', offset: 0, deletedText: 'a', insertedText: 'b', startedAt: 1 }], { pathOf: () => 'main.ts' });
    const rendered = renderPrompt([...ring.elements(), ...edits], { path: 'main.ts', prefix: 'helper(', suffix: ')' }, { budget: 500, counter: new EstimatedTokenCounter() });
    assert.deepEqual(rendered.blocks.map((b) => (b.type === 'element' ? b.element.kind : b.type)), ['openFile', 'recentEdit']);
    assert.throws(() => renderPrompt([], undefined, { budget: Number.NaN, counter: new EstimatedTokenCounter() }), RangeError);
  });
});
