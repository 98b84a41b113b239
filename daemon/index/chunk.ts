// Chunking, as a pure function over an outline of the syntax tree (cAST-style): walk sibling
// nodes, merge small neighbours into one chunk while it stays under the size budget, split a node
// that is too big into its children, and fall back to line windows where there is no structure.
// Sizes count non-whitespace characters, so indentation style does not change the chunking.
import { contentHash } from './hash.js';

/** Bump whenever chunk boundaries or contents could change: every chunk id changes with it. */
export const CHUNKER_VERSION = 2;

export const DEFAULT_MAX_CHUNK = 2000;
export const MAX_WINDOW_LINES = 200;

/** One node of the outline: a line range, and the definition it introduces, if any. */
export interface OutlineNode {
  startLine: number;
  endLine: number;
  /** Name of the symbol this node defines (a function, class, ...). */
  name?: string;
  children: OutlineNode[];
  /** Definitions inside a node whose children are not listed (a one-line export of a function). */
  defines?: string[];
}

export interface Chunk {
  /** hash(content + chunker version). */
  id: string;
  startLine: number;
  /** Inclusive. */
  endLine: number;
  /** Names of the definitions enclosing the chunk, outermost first. */
  container: string[];
  /** Names of the definitions that start inside the chunk. */
  defines: string[];
  content: string;
}

export interface ChunkOptions {
  maxChars?: number;
  /** Sizes of the file's lines, when the caller has them already. */
  sizes?: LineSizes;
}

/** Non-whitespace character counts over line ranges, from prefix sums. */
export class LineSizes {
  private readonly prefix: Int32Array;
  constructor(readonly lines: readonly string[]) {
    this.prefix = new Int32Array(lines.length + 1);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      let count = 0;
      for (let j = 0; j < line.length; j++) {
        const c = line.charCodeAt(j);
        if (c !== 32 && c !== 9 && c !== 13) count++;
      }
      this.prefix[i + 1] = this.prefix[i]! + count;
    }
  }
  /** Non-whitespace characters of lines start..end inclusive. */
  size(start: number, end: number): number {
    return this.prefix[end + 1]! - this.prefix[start]!;
  }
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  // A final newline does not start another line worth indexing.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

interface Range {
  start: number;
  end: number;
  container: string[];
  defines: string[];
}

/**
 * Chunks a file. `outline` is the list of top-level syntax nodes (empty or undefined: line
 * windows only). Chunks cover every line of the file exactly once, in order.
 */
export function chunkFile(text: string, outline: readonly OutlineNode[] | undefined, options: ChunkOptions = {}): Chunk[] {
  const lines = splitLines(text);
  if (lines.length === 0 || (lines.length === 1 && lines[0] === '')) return [];
  const sizes = options.sizes && options.sizes.lines.length === lines.length ? options.sizes : new LineSizes(lines);
  const max = options.maxChars ?? DEFAULT_MAX_CHUNK;
  const ranges: Range[] = [];
  const last = lines.length - 1;

  /** Line windows over start..end that stay under the budget (and MAX_WINDOW_LINES). */
  const windows = (start: number, end: number, container: string[]) => {
    let from = start;
    while (from <= end) {
      let to = from;
      while (to < end && to - from + 1 < MAX_WINDOW_LINES && sizes.size(from, to + 1) <= max) to++;
      ranges.push({ start: from, end: to, container, defines: [] });
      from = to + 1;
    }
  };

  /** Chunks the lines start..end, given the nodes inside them (sorted). */
  const visit = (nodes: readonly OutlineNode[], start: number, end: number, container: string[]) => {
    let group: Range | undefined;
    const flush = () => {
      if (group) ranges.push(group);
      group = undefined;
    };
    let cursor = start;
    const pieces: Array<{ start: number; end: number; node?: OutlineNode; sharing?: OutlineNode[] }> = [];
    for (const node of nodes) {
      const nodeStart = Math.max(node.startLine, cursor);
      const nodeEnd = Math.min(node.endLine, end);
      if (nodeEnd < nodeStart) {
        // On lines an earlier node already took: its definitions still belong to that chunk.
        const last = pieces[pieces.length - 1];
        if (last) (last.sharing ??= []).push(node);
        continue;
      }
      pieces.push({ start: cursor, end: nodeEnd, node });
      cursor = nodeEnd + 1;
    }
    if (cursor <= end) {
      if (pieces.length) pieces[pieces.length - 1]!.end = end;
      else pieces.push({ start: cursor, end });
    }
    for (const piece of pieces) {
      const size = sizes.size(piece.start, piece.end);
      if (size > max) {
        flush();
        const node = piece.node;
        const inner = node?.name ? [...container, node.name] : container;
        const children = node?.children.filter((child) => child.endLine >= piece.start && child.startLine <= piece.end) ?? [];
        // Splitting only helps when the children actually divide the node's lines.
        if (node && children.length > 0 && !(children.length === 1 && children[0]!.startLine <= piece.start && children[0]!.endLine >= piece.end)) {
          const before = ranges.length;
          visit(children, piece.start, piece.end, inner);
          if (node.name && ranges.length > before) ranges[before]!.defines.unshift(node.name);
        } else {
          const before = ranges.length;
          windows(piece.start, piece.end, inner);
          if (node?.name && ranges.length > before) ranges[before]!.defines.unshift(node.name);
        }
        continue;
      }
      if (group && sizes.size(group.start, piece.end) > max) flush();
      if (!group) group = { start: piece.start, end: piece.end, container, defines: [] };
      group.end = piece.end;
      if (piece.node) group.defines.push(...definedNames(piece.node));
      for (const node of piece.sharing ?? []) group.defines.push(...definedNames(node));
    }
    flush();
  };

  if (outline && outline.length) visit(outline, 0, last, []);
  else windows(0, last, []);

  return ranges.map((range) => {
    const content = lines.slice(range.start, range.end + 1).join('\n');
    return {
      id: contentHash(`${CHUNKER_VERSION}\0${content}`),
      startLine: range.start,
      endLine: range.end,
      container: range.container,
      defines: [...new Set(range.defines)],
      content,
    };
  });
}

/** The node's own name, or the names of the definitions directly inside a nameless wrapper. */
function definedNames(node: OutlineNode): string[] {
  if (node.name) return [node.name];
  return [...(node.defines ?? []), ...node.children.flatMap((child) => (child.name ? [child.name] : []))];
}
