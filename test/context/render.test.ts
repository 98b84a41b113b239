// Golden files: test/context/golden/<case>.json holds a prompt tree, a cursor window and a
// budget; <case>.golden.txt holds the rendered prompt and what was dropped. CARET_UPDATE_GOLDEN=1
// rewrites the golden files (review the diff before committing).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type CursorWindow, EstimatedTokenCounter, type PromptLeaf, type PromptNode, renderPrompt, toInfillParts, toPromptText } from '../../daemon/context/index.js';
import { repoRoot } from '../helpers/index.js';
import { loadTokenizer } from '../../daemon/models/index.js';
import { testCausalLm, trainingCorpus } from '../fixtures/models/index.js';

const goldenDir = join(repoRoot, 'test/context/golden');

interface GoldenCase {
  description: string;
  budget: number;
  cursorShare?: number;
  cursor?: CursorWindow;
  tree: PromptNode[];
}

function report(input: GoldenCase): string {
  const counter = new EstimatedTokenCounter();
  const rendered = renderPrompt(input.tree, input.cursor, { budget: input.budget, counter, ...(input.cursorShare ? { cursorShare: input.cursorShare } : {}) });
  const lines = [
    `# ${input.description}`,
    `budget ${input.budget}, used ${rendered.tokens}`,
    '--- prompt ---',
    toPromptText(rendered),
    '--- dropped ---',
    ...rendered.dropped.map((drop) => `${drop.id}: ${drop.reason}`),
  ];
  if (rendered.cursor) lines.push('--- cursor ---', `trimmed ${rendered.cursor.trimmedPrefixLines} prefix lines, ${rendered.cursor.trimmedSuffixLines} suffix lines`);
  return `${lines.join('\n')}\n`;
}

describe('prompt renderer golden files', () => {
  const cases = readdirSync(goldenDir).filter((name) => name.endsWith('.json')).sort();
  it('has golden cases', () => assert.ok(cases.length >= 5));
  for (const name of cases) {
    it(name.replace(/\.json$/, ''), () => {
      const input = JSON.parse(readFileSync(join(goldenDir, name), 'utf8')) as GoldenCase;
      const actual = report(input);
      const goldenFile = join(goldenDir, name.replace(/\.json$/, '.golden.txt'));
      if (process.env.CARET_UPDATE_GOLDEN === '1') writeFileSync(goldenFile, actual);
      assert.equal(actual, readFileSync(goldenFile, 'utf8'));
    });
  }
});

describe('prompt renderer', () => {
  const counter = new EstimatedTokenCounter();
  const leaf = (id: string, kind: PromptLeaf['kind'], text: string, extra: Partial<PromptLeaf> = {}): PromptLeaf => ({ id, kind, text, ...extra });

  it('keeps the prompt start identical across keystrokes and score changes', () => {
    const snippets = [
      leaf('open:a', 'openFile', 'const alpha = compute(1);', { path: 'a.ts', order: 1 }),
      leaf('open:b', 'openFile', 'const beta = compute(2);', { path: 'b.ts', order: 2 }),
      leaf('def:compute', 'definition', 'function compute(n: number) { return n * 2; }', { path: 'c.ts' }),
      leaf('search:x', 'indexResult', 'export const gamma = compute(3);', { path: 'd.ts', score: 0.4 }),
    ];
    const first = toPromptText(renderPrompt(snippets, { path: 'main.ts', prefix: 'const v = comp', suffix: '' }, { budget: 500, counter }));
    const rescored = [...snippets].reverse().map((s, i) => ({ ...s, score: i / 10 }));
    const second = toPromptText(renderPrompt(rescored, { path: 'main.ts', prefix: 'const v = compu', suffix: '' }, { budget: 500, counter }));
    const stablePart = first.slice(0, first.indexOf('<file path="main.ts"'));
    assert.ok(stablePart.length > 100);
    assert.ok(second.startsWith(stablePart), 'everything before the cursor window is byte-identical');
  });

  it('uses the given tokenizer for the budget', () => {
    const perChar = { countTokens: (text: string) => text.length };
    const tree = [leaf('a', 'openFile', 'x'.repeat(40), { path: 'a' }), leaf('b', 'openFile', 'y'.repeat(40), { path: 'b' })];
    // Cost = text + path + 2 = 43 each; with a 10-character cursor window only one fits in 90.
    const rendered = renderPrompt(tree, { path: 'm', prefix: '12345', suffix: '67890' }, { budget: 90, counter: perChar });
    assert.equal(rendered.tokens, 10 + 43);
    assert.deepEqual(rendered.dropped, [{ id: 'b', reason: 'budget' }]);
  });

  it('gives infill parts: context files in placement order, then prefix and suffix', () => {
    const rendered = renderPrompt(
      [leaf('e', 'recentEdit', '-a\n+b', { path: 'x.ts', order: 5 }), leaf('o', 'openFile', 'let q = 1;', { path: 'y.ts', order: 1 })],
      { path: 'z.ts', prefix: 'p', suffix: 's' },
      { budget: 1000, counter },
    );
    assert.deepEqual(toInfillParts(rendered), {
      prefix: 'p',
      suffix: 's',
      filename: 'z.ts',
      extra: [
        { filename: 'y.ts', text: 'let q = 1;' },
        { filename: 'x.ts (recent edit)', text: '-a\n+b', path: 'x.ts' },
      ],
    });
  });

  it('never exceeds the budget unless the cursor line alone does', () => {
    const arbitraryLeaf = fc.record({
      kind: fc.constantFrom('recentEdit', 'openFile', 'indexResult', 'definition', 'instruction'),
      text: fc.string({ maxLength: 200 }),
      path: fc.constantFrom('a.ts', 'b.ts', 'main.ts'),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryLeaf, { maxLength: 12 }), fc.integer({ min: 20, max: 400 }), fc.string({ maxLength: 300 }), (leaves, budget, prefix) => {
        const tree = leaves.map((l, i) => ({ ...l, id: `n${i}` }) as PromptLeaf);
        const rendered = renderPrompt(tree, { path: 'main.ts', prefix, suffix: '' }, { budget, counter });
        const cursorLine = prefix.split('\n').pop()!;
        const floor = counter.countTokens(cursorLine);
        assert.ok(rendered.tokens <= Math.max(budget, floor), `${rendered.tokens} > ${budget}`);
        const keptIds = rendered.blocks.flatMap((b) => (b.type === 'element' ? [b.element.id] : []));
        assert.equal(keptIds.length + rendered.dropped.length, tree.length, 'every element is kept or dropped with a reason');
      }),
    );
  });
});

describe('token estimate', () => {
  it('counts code roughly like a BPE tokenizer and calibrates from real counts', () => {
    const estimate = new EstimatedTokenCounter();
    const code = 'function addNumbers(first, second) {\n  return first + second;\n}\n';
    const raw = estimate.countTokens(code);
    assert.ok(raw >= 14 && raw <= 24, `estimate ${raw}`);
    for (let i = 0; i < 20; i++) estimate.observe(code.repeat(3), Math.round(raw * 3 * 1.5));
    const calibrated = estimate.countTokens(code);
    assert.ok(Math.abs(calibrated - raw * 1.5) <= 2, `calibrated ${calibrated}, expected about ${raw * 1.5}`);
  });
});

describe('renderer with a real tokenizer', () => {
  it('counts the budget with the model tokenizer when one is given', () => {
    const tokenizer = loadTokenizer(testCausalLm());
    const tree: PromptLeaf[] = [
      { id: 'a', kind: 'openFile', path: 'a.ts', order: 1, text: 'export function add(a: number, b: number) {\n  return a + b;\n}' },
      { id: 'b', kind: 'definition', path: 'b.ts', text: 'interface Point {\n  x: number;\n  y: number;\n}' },
    ];
    const cursor = { path: 'main.ts', prefix: 'const p: Point = { x: add(1, 2), y: ', suffix: ' };' };
    const cursorTokens = tokenizer.countTokens(cursor.prefix) + tokenizer.countTokens(cursor.suffix);
    const costA = tokenizer.countTokens(tree[0]!.text) + tokenizer.countTokens('a.ts') + 2;
    const rendered = renderPrompt(tree, cursor, { budget: cursorTokens + costA, counter: tokenizer, cursorShare: 1 });
    assert.equal(rendered.tokens, cursorTokens + costA);
    assert.deepEqual(rendered.dropped, [{ id: 'b', reason: 'budget' }]);
  });

  it('calibrates the estimate to a tokenizer from observed counts', () => {
    const tokenizer = loadTokenizer(testCausalLm());
    const texts = trainingCorpus.split('\n\n').filter((text) => text.length > 80);
    assert.ok(texts.length >= 10);
    const train = texts.filter((_, i) => i % 2 === 0);
    const held = texts.filter((_, i) => i % 2 === 1);
    const error = (estimate: EstimatedTokenCounter) =>
      held.reduce((sum, text) => sum + Math.abs(estimate.countTokens(text) - tokenizer.countTokens(text)) / tokenizer.countTokens(text), 0) / held.length;
    const estimate = new EstimatedTokenCounter();
    const before = error(estimate);
    for (const text of train) estimate.observe(text, tokenizer.countTokens(text));
    const after = error(estimate);
    assert.ok(after < before, `calibration did not help: ${before} -> ${after}`);
    assert.ok(after < 0.25, `calibrated error ${after}`);
  });
});
