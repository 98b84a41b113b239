// `npm run bench -- context`: how much of each completion prompt a prefix cache can reuse from
// the previous keystroke's prompt, with caret's stable-first placement against placing the same
// kept elements by rank (priority, then score) as a ranking-driven renderer would; and the
// renderer's cost per keystroke. Measured side by side over one simulated editing session.
import { performance } from 'node:perf_hooks';
import {
  EstimatedTokenCounter,
  kindPriority,
  type PromptLeaf,
  type RenderedPrompt,
  renderPrompt,
  toPromptText,
} from '../../daemon/context/index.js';

const counter = new EstimatedTokenCounter();
const keystrokes = Number(process.argv[2] ?? 300);

// A deterministic pseudo-random source, so runs compare.
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const fileLines = (name: string, count: number) =>
  Array.from({ length: count }, (_, i) => `export function ${name}Helper${i}(value: number): number { return value * ${i} + ${name.length}; }`);

const openFiles = ['cart', 'item', 'price', 'discount', 'currency', 'tax'].map((name, i) => ({
  id: `open:${name}`,
  kind: 'openFile' as const,
  path: `src/${name}.ts`,
  order: i,
  text: fileLines(name, 12).join('\n'),
}));
const indexPool = Array.from({ length: 20 }, (_, i) => ({ id: `search:${i}`, kind: 'indexResult' as const, path: `src/lib/mod${i}.ts`, lines: { start: i * 10, end: i * 10 + 8 }, text: fileLines(`mod${i}`, 8).join('\n') }));
const definitions = Array.from({ length: 6 }, (_, i) => ({ id: `def:${i}`, kind: 'definition' as const, path: `src/types${i}.ts`, text: `export interface Type${i} {\n  id: string;\n  amount${i}: number;\n}` }));
const document = fileLines('main', 200);

// Assumptions, per keystroke: index results are re-queried with the word being typed, so each
// result's relevance jitters a little around its own level and the top 8 are offered; the symbols
// near the cursor (definitions) change every 25 keystrokes; a finished edit joins the recent
// edits every 20 keystrokes; open files stay. The renderer keeps what fits by priority and score.
const baseRelevance = indexPool.map(() => random());
let definitionScores = definitions.map(() => random());

function elementsAt(step: number): PromptLeaf[] {
  if (step % 25 === 0) definitionScores = definitions.map(() => random());
  const results = indexPool
    .map((leaf, i) => ({ ...leaf, score: baseRelevance[i]! + (random() - 0.5) * 0.1 }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 8);
  const defs = definitions.map((leaf, i) => ({ ...leaf, score: definitionScores[i]! }));
  const edits = Array.from({ length: Math.min(6, Math.floor(step / 20) + 1) }, (_, i) => ({
    id: `edit:${i}`,
    kind: 'recentEdit' as const,
    path: 'src/main.ts',
    order: i,
    text: `@@ line ${100 + i}\n-  const old${i} = 0;\n+  const renamed${i} = 0;`,
  }));
  return [...openFiles, ...defs, ...results, ...edits];
}

function byRank(rendered: RenderedPrompt): RenderedPrompt {
  const rank = (leaf: PromptLeaf) => leaf.priority ?? kindPriority[leaf.kind];
  const blocks = [...rendered.blocks].sort((a, b) =>
    a.type === 'element' && b.type === 'element' ? rank(b.element) - rank(a.element) || (b.element.score ?? 0) - (a.element.score ?? 0) : 0,
  );
  return { ...rendered, blocks };
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

let previousStable = '';
let previousRanked = '';
let reusableStable = 0;
let reusableRanked = 0;
let total = 0;
let renderMs = 0;
const warmup = 50;
const typed = 'calculateTotalWithDiscount(cart, rate)';
for (let step = 0; step < keystrokes; step++) {
  const line = 120;
  const prefix = `${document.slice(60, line).join('\n')}\n  const result = ${typed.slice(0, step % typed.length)}`;
  const suffix = `\n${document.slice(line + 1, line + 40).join('\n')}`;
  const tree = elementsAt(step);
  const started = performance.now();
  const rendered = renderPrompt(tree, { path: 'src/main.ts', prefix, suffix, startLine: 60 }, { budget: 6000, counter });
  if (step >= warmup) renderMs += performance.now() - started;
  const stable = toPromptText(rendered);
  const ranked = toPromptText(byRank(rendered));
  if (step > 0) {
    reusableStable += counter.countTokens(stable.slice(0, commonPrefix(previousStable, stable)));
    reusableRanked += counter.countTokens(ranked.slice(0, commonPrefix(previousRanked, ranked)));
    total += counter.countTokens(stable);
  }
  previousStable = stable;
  previousRanked = ranked;
}

const stableShare = reusableStable / total;
const rankedShare = reusableRanked / total;
console.log(`keystrokes: ${keystrokes}, prompt budget 6000 tokens`);
console.log(`prompt reusable from the previous keystroke (prefix cache), stable-first placement: ${(stableShare * 100).toFixed(1)}%`);
console.log(`prompt reusable from the previous keystroke (prefix cache), placement by rank:      ${(rankedShare * 100).toFixed(1)}%`);
console.log(`tokens to recompute per keystroke, rank / stable-first: ${((1 - rankedShare) / (1 - stableShare)).toFixed(1)}x`);
console.log(`render time per keystroke: ${((renderMs / (keystrokes - warmup)) * 1000).toFixed(0)} µs`);
