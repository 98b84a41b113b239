// One version of a document's text, kept as chunks of whole lines (2 to 3 KB each) so that an
// edit and the reads a keystroke needs cost what they touch, not the document's size. Immutable:
// an edit returns a new snapshot that shares every chunk it did not touch, so holding on to a
// version (a suggestion's text, a request in flight) costs a few pointers. The whole text is
// joined on first use and kept, for the callers that need it.
//
// Why not one string: V8 makes each edited version a rope of the old text's pieces that the
// first read flattens, a 150 KB copy (and its garbage) on every keystroke, and every version
// needed its line starts found again by a scan of the whole text.
import type { Position, PositionEncodingKind } from '../../protocol/index.js';
import { lastAtMost, offsetInLine, unitsInLine } from './positions.js';

/** Characters a chunk aims for: edits re-split at most a few chunks of this size. */
const TARGET_CHUNK = 2048;
/** A region smaller than this after an edit takes in a neighbour, so chunks stay few. */
const MIN_CHUNK = TARGET_CHUNK / 4;

interface Chunk {
  readonly text: string;
  /** Offsets in `text` just after each line terminator (\n, \r\n or \r), ascending. */
  readonly breaks: readonly number[];
}

export class TextSnapshot {
  private joined: string | undefined;
  private allLineStarts: number[] | undefined;

  private constructor(
    private readonly chunks: readonly Chunk[],
    /** Offset of each chunk's first character. */
    private readonly chunkOffsets: readonly number[],
    /** Line number of each chunk's first line. */
    private readonly chunkLines: readonly number[],
    readonly length: number,
    readonly lineCount: number,
    joined?: string,
  ) {
    this.joined = joined;
  }

  static of(text: string): TextSnapshot {
    return TextSnapshot.build(splitIntoChunks(text), text);
  }

  private static build(chunks: Chunk[], joined?: string): TextSnapshot {
    const offsets = new Array<number>(chunks.length);
    const lines = new Array<number>(chunks.length);
    let offset = 0;
    let line = 0;
    for (let i = 0; i < chunks.length; i++) {
      offsets[i] = offset;
      lines[i] = line;
      offset += chunks[i]!.text.length;
      line += chunks[i]!.breaks.length;
    }
    return new TextSnapshot(chunks, offsets, lines, offset, line + 1, joined);
  }

  /** The whole text (joined once per snapshot: O(document) the first time). */
  get text(): string {
    if (this.joined === undefined) {
      // Array#join makes one flat string: no rope for the next reader to flatten.
      this.joined = this.chunks.map((chunk) => chunk.text).join('');
    }
    return this.joined;
  }

  /** Offsets where each line starts (O(lines) the first time; the positions here do not need it). */
  get lineStarts(): number[] {
    if (!this.allLineStarts) {
      const starts = [0];
      for (let i = 0; i < this.chunks.length; i++) {
        for (const at of this.chunks[i]!.breaks) starts.push(this.chunkOffsets[i]! + at);
      }
      this.allLineStarts = starts;
    }
    return this.allLineStarts;
  }

  /** text[from, to), clamped to the text; costs the length read, not the document's. */
  slice(from: number, to: number = this.length): string {
    const start = Math.max(0, Math.min(from, this.length));
    const end = Math.max(start, Math.min(to, this.length));
    if (this.joined !== undefined) return this.joined.slice(start, end);
    if (start === end) return '';
    let index = this.chunkAtOffset(start);
    const parts: string[] = [];
    for (let at = start; at < end; index++) {
      const base = this.chunkOffsets[index]!;
      const chunk = this.chunks[index]!.text;
      const piece = chunk.slice(at - base, Math.min(chunk.length, end - base));
      parts.push(piece);
      at += piece.length;
    }
    return parts.length === 1 ? parts[0]! : parts.join('');
  }

  /** Offset where `line` starts; lines past the end mean the end of the text. */
  lineStart(line: number): number {
    if (line >= this.lineCount) return this.length;
    const index = this.chunkAtLine(Math.max(0, line));
    const local = Math.max(0, line) - this.chunkLines[index]!;
    return this.chunkOffsets[index]! + (local === 0 ? 0 : this.chunks[index]!.breaks[local - 1]!);
  }

  /** Offset where `line`'s content ends (before its terminator). */
  lineEnd(line: number): number {
    if (line >= this.lineCount) return this.length;
    const index = this.chunkAtLine(Math.max(0, line));
    const { text, breaks } = this.chunks[index]!;
    const local = Math.max(0, line) - this.chunkLines[index]!;
    return this.chunkOffsets[index]! + contentEnd(text, local === 0 ? 0 : breaks[local - 1]!, local < breaks.length ? breaks[local]! : text.length);
  }

  /** The line holding `offset` (clamped to the text). */
  lineAt(offset: number): number {
    const clamped = Math.max(0, Math.min(offset, this.length));
    const index = this.chunkAtOffset(clamped);
    return this.chunkLines[index]! + countAtMost(this.chunks[index]!.breaks, clamped - this.chunkOffsets[index]!);
  }

  /** As positions.offsetAt on the whole text: clamped to the line's end and the text's end. */
  offsetAt(position: Position, encoding: PositionEncodingKind): number {
    if (position.line >= this.lineCount) return this.length;
    const line = Math.max(0, position.line);
    const index = this.chunkAtLine(line);
    const { text, breaks } = this.chunks[index]!;
    const local = line - this.chunkLines[index]!;
    const start = local === 0 ? 0 : breaks[local - 1]!;
    const end = contentEnd(text, start, local < breaks.length ? breaks[local]! : text.length);
    return this.chunkOffsets[index]! + offsetInLine(text, start, end, position.character, encoding);
  }

  /** As positions.positionAt on the whole text. */
  positionAt(offset: number, encoding: PositionEncodingKind): Position {
    const clamped = Math.max(0, Math.min(offset, this.length));
    const index = this.chunkAtOffset(clamped);
    const { text, breaks } = this.chunks[index]!;
    const at = clamped - this.chunkOffsets[index]!;
    const local = countAtMost(breaks, at);
    const start = local === 0 ? 0 : breaks[local - 1]!;
    const target = Math.min(at, contentEnd(text, start, local < breaks.length ? breaks[local]! : text.length));
    return { line: this.chunkLines[index]! + local, character: unitsInLine(text, start, target, encoding) };
  }

  /**
   * The text with [start, end) replaced by `inserted`, as a new snapshot: re-splits only the
   * chunks the edit touches (and a neighbour where a line terminator could join across it).
   */
  replace(start: number, end: number, inserted: string): TextSnapshot {
    const from = Math.max(0, Math.min(start, end, this.length));
    const to = Math.max(0, Math.min(Math.max(start, end), this.length));
    if (from === 0 && to === this.length) return TextSnapshot.of(inserted);
    // The chunk before the edit's start is taken in when the edit starts a chunk: a "\n" typed
    // after a chunk that ends in "\r" joins its terminator. The chunk holding `to` is taken in
    // whole, so the region ends where a chunk ended before, after a terminator that still is one.
    let first = this.chunkAtOffset(Math.max(0, from - 1));
    let last = this.chunkAtOffset(to);
    let region = this.regionText(first, last, from, to, inserted);
    while (region.length < MIN_CHUNK && (first > 0 || last < this.chunks.length - 1)) {
      if (last < this.chunks.length - 1) last++;
      else first--;
      region = this.regionText(first, last, from, to, inserted);
    }
    const chunks = this.chunks.slice(0, first);
    for (const chunk of splitIntoChunks(region)) chunks.push(chunk);
    for (let i = last + 1; i < this.chunks.length; i++) chunks.push(this.chunks[i]!);
    return TextSnapshot.build(chunks);
  }

  /** Chunks first..last joined, with [from, to) (offsets of the whole text) replaced. */
  private regionText(first: number, last: number, from: number, to: number, inserted: string): string {
    const base = this.chunkOffsets[first]!;
    const parts: string[] = [];
    for (let i = first; i <= last; i++) parts.push(this.chunks[i]!.text);
    const text = parts.join('');
    return text.slice(0, from - base) + inserted + text.slice(to - base);
  }

  /** The last chunk starting at or before `offset`. */
  private chunkAtOffset(offset: number): number {
    return lastAtMost(this.chunkOffsets, offset);
  }

  /** The last chunk whose first line is at or before `line`. */
  private chunkAtLine(line: number): number {
    return lastAtMost(this.chunkLines, line);
  }
}

/** Splits text into chunks of whole lines of TARGET_CHUNK characters or more (one chunk at least). */
function splitIntoChunks(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let breaks: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 10 && code !== 13) continue;
    if (code === 13 && text.charCodeAt(i + 1) === 10) i++;
    breaks.push(i + 1 - start);
    // Cut only where half a chunk or more remains: a region that grew a little past the target
    // stays whole rather than shedding a sliver (typing at one place would leave one behind
    // every few dozen characters).
    if (i + 1 - start >= TARGET_CHUNK && text.length - (i + 1) >= TARGET_CHUNK / 2) {
      chunks.push({ text: text.slice(start, i + 1), breaks });
      start = i + 1;
      breaks = [];
    }
  }
  chunks.push({ text: start === 0 ? text : text.slice(start), breaks });
  return chunks;
}

/** Where a line's content ends: before the terminator that ends text[start, next). */
function contentEnd(text: string, start: number, next: number): number {
  let end = next;
  if (end > start && text.charCodeAt(end - 1) === 10) end--;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return end;
}

/** How many values of an ascending array are at or before `target`. */
function countAtMost(values: readonly number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid]! <= target) low = mid + 1;
    else high = mid;
  }
  return low;
}
