// The renderer: fits a prompt tree and the cursor window into a token budget. Pure.
//
// 1. The cursor window is always kept; when other elements compete it may take at most
//    `cursorShare` of the budget, trimmed by whole lines from its far ends (the prefix keeps
//    `prefixShare` of that).
// 2. Other leaves are considered by priority (then score, then placement) and kept while they
//    fit. A snippet is dropped when it merely repeats the cursor window (same file and lines, or
//    most of its lines are in the window), or when most of its lines are already in kept snippets.
// 3. Kept elements are placed stable-first (kindPlacement, then `order`, then path and line), so
//    the prompt's beginning stays byte-identical across keystrokes and prefix caches hit.
import type { TokenCounter } from '../models/index.js';
import { type CursorWindow, isGroup, kindPlacement, kindPriority, type ElementKind, type PromptGroup, type PromptLeaf, type PromptNode } from './elements.js';
import { meaningfulLines, rangesOverlap } from './similarity.js';

export interface RenderOptions {
  /** Tokens the prompt may use (the context length minus the output reserve). */
  budget: number;
  counter: TokenCounter;
  /** Largest share of the budget the cursor window takes when other elements compete (0.6). */
  cursorShare?: number;
  /** Share of the cursor window's allowance that goes to the prefix (0.75). */
  prefixShare?: number;
  /** A snippet with at least this share of its lines already shown is dropped (0.8). */
  duplicateThreshold?: number;
}

export type DropReason = 'budget' | 'duplicate' | 'repeatsCursor';

export type RenderedBlock = { type: 'header'; groupId: string; text: string } | { type: 'element'; element: PromptLeaf };

export interface RenderedCursor {
  path: string;
  prefix: string;
  suffix: string;
  /** Whole lines cut from the start of the prefix and the end of the suffix. */
  trimmedPrefixLines: number;
  trimmedSuffixLines: number;
  /** Tokens of prefix and suffix, counted line by line (a newline counts as one). */
  tokens: number;
}

export interface RenderedPrompt {
  /** Kept elements in placement order, each group's header before its first kept child. */
  blocks: RenderedBlock[];
  cursor?: RenderedCursor;
  /** Tokens used, as counted by the counter (cursor window included). */
  tokens: number;
  dropped: Array<{ id: string; reason: DropReason }>;
}

/** Kinds whose text is code from files, and so may duplicate each other or the cursor window. */
const snippetKinds = new Set<ElementKind>(['openFile', 'indexResult', 'definition']);

interface Candidate {
  leaf: PromptLeaf;
  priority: number;
  ancestors: PromptGroup[];
}

export function renderPrompt(tree: readonly PromptNode[], cursor: CursorWindow | undefined, options: RenderOptions): RenderedPrompt {
  const { counter, budget } = options;
  if (!Number.isFinite(budget) || budget < 0) throw new RangeError(`renderPrompt: budget must be a finite number of tokens >= 0 (got ${budget})`);
  const threshold = options.duplicateThreshold ?? 0.8;
  const candidates = flatten(tree);
  let used = 0;

  let renderedCursor: RenderedCursor | undefined;
  if (cursor) {
    const allowance = candidates.length > 0 ? Math.floor(budget * (options.cursorShare ?? 0.6)) : budget;
    renderedCursor = fitCursor(cursor, allowance, options.prefixShare ?? 0.75, counter);
    used += renderedCursor.tokens;
  }
  const cursorLines = renderedCursor ? meaningfulLines(renderedCursor.prefix + renderedCursor.suffix) : new Set<string>();
  const cursorRange = renderedCursor && cursor?.startLine !== undefined ? visibleRange(cursor, renderedCursor) : undefined;

  candidates.sort(
    (a, b) => b.priority - a.priority || (b.leaf.score ?? 0) - (a.leaf.score ?? 0) || comparePlacement(a.leaf, b.leaf),
  );
  const kept = new Set<PromptLeaf>();
  const openedGroups = new Set<PromptGroup>();
  const shownLines = new Set<string>();
  const dropped: RenderedPrompt['dropped'] = [];

  for (const { leaf, ancestors } of candidates) {
    if (snippetKinds.has(leaf.kind)) {
      const lines = meaningfulLines(leaf.text);
      if (renderedCursor && repeatsCursor(leaf, lines, renderedCursor.path, cursorRange, cursorLines, threshold)) {
        dropped.push({ id: leaf.id, reason: 'repeatsCursor' });
        continue;
      }
      if (lines.size > 0 && shareIn(lines, shownLines) >= threshold) {
        dropped.push({ id: leaf.id, reason: 'duplicate' });
        continue;
      }
      const cost = elementCost(leaf, ancestors, openedGroups, counter);
      if (used + cost > budget) {
        dropped.push({ id: leaf.id, reason: 'budget' });
        continue;
      }
      for (const line of lines) shownLines.add(line);
      used += cost;
    } else {
      const cost = elementCost(leaf, ancestors, openedGroups, counter);
      if (used + cost > budget) {
        dropped.push({ id: leaf.id, reason: 'budget' });
        continue;
      }
      used += cost;
    }
    kept.add(leaf);
    for (const group of ancestors) openedGroups.add(group);
  }

  return { blocks: place(tree, kept), ...(renderedCursor ? { cursor: renderedCursor } : {}), tokens: used, dropped };
}

/** Per-element cost: its text, a line naming its file, and the headers of groups it opens. */
function elementCost(leaf: PromptLeaf, ancestors: readonly PromptGroup[], opened: ReadonlySet<PromptGroup>, counter: TokenCounter): number {
  let cost = counter.countTokens(leaf.text) + (leaf.path ? counter.countTokens(leaf.path) + 2 : 1);
  for (const group of ancestors) if (!opened.has(group) && group.header) cost += counter.countTokens(group.header);
  return cost;
}

function flatten(nodes: readonly PromptNode[], ancestors: PromptGroup[] = [], inherited?: number): Candidate[] {
  const out: Candidate[] = [];
  for (const node of nodes) {
    if (isGroup(node)) out.push(...flatten(node.children, [...ancestors, node], node.priority ?? inherited));
    else out.push({ leaf: node, priority: node.priority ?? inherited ?? kindPriority[node.kind], ancestors });
  }
  return out;
}

function comparePlacement(a: PromptLeaf, b: PromptLeaf): number {
  return (
    kindPlacement[a.kind] - kindPlacement[b.kind] ||
    (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER) ||
    (a.path ?? '').localeCompare(b.path ?? '') ||
    (a.lines?.start ?? 0) - (b.lines?.start ?? 0) ||
    a.id.localeCompare(b.id)
  );
}

/** Blocks in placement order; a group sits where its first kept descendant would. */
function place(nodes: readonly PromptNode[], kept: ReadonlySet<PromptLeaf>): RenderedBlock[] {
  const entries: Array<{ key: PromptLeaf; blocks: RenderedBlock[] }> = [];
  for (const node of nodes) {
    if (isGroup(node)) {
      const inner = place(node.children, kept);
      const first = inner.find((block): block is Extract<RenderedBlock, { type: 'element' }> => block.type === 'element');
      if (!first) continue;
      entries.push({ key: firstByPlacement(node, kept) ?? first.element, blocks: [...(node.header ? [{ type: 'header' as const, groupId: node.id, text: node.header }] : []), ...inner] });
    } else if (kept.has(node)) {
      entries.push({ key: node, blocks: [{ type: 'element', element: node }] });
    }
  }
  entries.sort((a, b) => comparePlacement(a.key, b.key));
  return entries.flatMap((entry) => entry.blocks);
}

function firstByPlacement(group: PromptGroup, kept: ReadonlySet<PromptLeaf>): PromptLeaf | undefined {
  let best: PromptLeaf | undefined;
  for (const { leaf } of flatten(group.children)) if (kept.has(leaf) && (!best || comparePlacement(leaf, best) < 0)) best = leaf;
  return best;
}

function shareIn(lines: ReadonlySet<string>, shown: ReadonlySet<string>): number {
  let found = 0;
  for (const line of lines) if (shown.has(line)) found++;
  return lines.size === 0 ? 0 : found / lines.size;
}

function repeatsCursor(
  leaf: PromptLeaf,
  lines: ReadonlySet<string>,
  cursorPath: string,
  cursorRange: { start: number; end: number } | undefined,
  cursorLines: ReadonlySet<string>,
  threshold: number,
): boolean {
  if (leaf.path === cursorPath && leaf.lines && cursorRange && rangesOverlap(leaf.lines, cursorRange)) {
    // Overlapping lines of the same file: a repeat unless most of the snippet lies outside the window.
    const outside = Math.max(0, cursorRange.start - leaf.lines.start) + Math.max(0, leaf.lines.end - cursorRange.end);
    if (outside < (leaf.lines.end - leaf.lines.start) * (1 - threshold) + 1e-9) return true;
  }
  return lines.size > 0 && shareIn(lines, cursorLines) >= threshold;
}

/** The file lines the kept cursor window covers. */
function visibleRange(cursor: CursorWindow, rendered: RenderedCursor): { start: number; end: number } {
  const start = (cursor.startLine ?? 0) + rendered.trimmedPrefixLines;
  const lineCount = (rendered.prefix + rendered.suffix).split('\n').length;
  return { start, end: start + lineCount };
}

/** Trims the window by whole lines from its far ends until it fits `allowance` tokens. */
export function fitCursor(cursor: CursorWindow, allowance: number, prefixShare: number, counter: TokenCounter): RenderedCursor {
  const prefixLines = cursor.prefix.split('\n');
  const suffixLines = cursor.suffix.split('\n');
  const cost = (lines: readonly string[]) => lines.reduce((sum, line) => sum + counter.countTokens(line) + 1, 0) - 1;
  let prefixCost = cost(prefixLines);
  let suffixCost = cost(suffixLines);
  let trimmedPrefix = 0;
  let trimmedSuffix = 0;
  if (prefixCost + suffixCost > allowance) {
    // Each side gets its share; a side that needs less lends the rest to the other.
    let prefixBudget = Math.floor(allowance * prefixShare);
    let suffixBudget = allowance - prefixBudget;
    if (suffixCost < suffixBudget) prefixBudget += suffixBudget - suffixCost;
    if (prefixCost < prefixBudget) suffixBudget += prefixBudget - prefixCost;
    // The cursor's own line (last of the prefix, first of the suffix) always stays.
    while (prefixCost > prefixBudget && prefixLines.length > 1) {
      prefixCost -= counter.countTokens(prefixLines.shift()!) + 1;
      trimmedPrefix++;
    }
    while (suffixCost > suffixBudget && suffixLines.length > 1) {
      suffixCost -= counter.countTokens(suffixLines.pop()!) + 1;
      trimmedSuffix++;
    }
  }
  return {
    path: cursor.path,
    prefix: prefixLines.join('\n'),
    suffix: suffixLines.join('\n'),
    trimmedPrefixLines: trimmedPrefix,
    trimmedSuffixLines: trimmedSuffix,
    tokens: Math.max(0, prefixCost) + Math.max(0, suffixCost),
  };
}
