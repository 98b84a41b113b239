// Hunks of a model's output while it is still being written. The output is cut into segments at
// sync points, where its last few complete lines equal consecutive lines of the original at or
// after the previous sync point; each segment is diffed against its part of the original, and
// its hunks are final from then on (later text cannot change them). The final hunks are the
// segments' hunks plus the last segment's, so every hunk streamed is repeated unchanged. Pure.
import { diffLineArrays, type LineHunk, lineOffsets, splitLines } from '../diff/index.js';

/** Complete lines of the output that must match the original to close a segment. */
const SYNC_LINES = 3;

export class ProgressiveDiff {
  private readonly originalLines: string[];
  private readonly originalOffsets: number[];
  private readonly index = new Map<string, number[]>();
  private syncOriginal = 0;
  private syncOutput = 0;
  /** The output prefix (in lines) the segments so far cover. */
  private coveredLines: string[] = [];
  readonly hunks: LineHunk[] = [];

  constructor(original: string) {
    this.originalLines = splitLines(original);
    this.originalOffsets = lineOffsets(this.originalLines);
    this.originalLines.forEach((line, i) => {
      const list = this.index.get(line);
      if (list) list.push(i);
      else this.index.set(line, [i]);
    });
  }

  /** Takes the output so far; returns the hunks that became final. */
  feed(output: string): LineHunk[] {
    const lines = splitLines(output);
    if (lines.length && !/[\r\n]$/.test(lines[lines.length - 1]!)) lines.pop(); // the line being written
    if (!this.consistent(lines)) return [];
    const fresh: LineHunk[] = [];
    const last = lines.length - 1;
    if (last - this.syncOutput + 1 < SYNC_LINES) return fresh;
    const candidates = this.index.get(lines[last]!) ?? [];
    for (const j of candidates) {
      if (j < this.syncOriginal + SYNC_LINES - 1) continue;
      let ok = lines[last]!.trim() !== '';
      for (let k = 1; ok && k < SYNC_LINES; k++) ok = lines[last - k] === this.originalLines[j - k];
      if (!ok) continue;
      fresh.push(...this.segment(lines, j + 1, last + 1));
      break;
    }
    return fresh;
  }

  /** The whole output; returns the last segment's hunks. `hunks` then holds them all. */
  finish(output: string): LineHunk[] {
    const lines = splitLines(output);
    if (!this.consistent(lines)) throw new Error('output changed under the progressive diff');
    return this.segment(lines, this.originalLines.length, lines.length);
  }

  /** Whether the output still starts with what the closed segments covered. */
  consistent(lines: readonly string[]): boolean {
    for (let i = 0; i < this.syncOutput; i++) if (lines[i] !== this.coveredLines[i]) return false;
    return true;
  }

  private segment(lines: readonly string[], originalEnd: number, outputEnd: number): LineHunk[] {
    const outputOffsets = lineOffsets(lines);
    const local = diffLineArrays(this.originalLines.slice(this.syncOriginal, originalEnd), lines.slice(this.syncOutput, outputEnd));
    const shifted = local.map((hunk) => ({
      ...hunk,
      oldStart: hunk.oldStart + this.syncOriginal,
      oldEnd: hunk.oldEnd + this.syncOriginal,
      newStart: hunk.newStart + this.syncOutput,
      newEnd: hunk.newEnd + this.syncOutput,
      oldOffset: hunk.oldOffset + this.originalOffsets[this.syncOriginal]!,
      oldEndOffset: hunk.oldEndOffset + this.originalOffsets[this.syncOriginal]!,
      newOffset: hunk.newOffset + outputOffsets[this.syncOutput]!,
      newEndOffset: hunk.newEndOffset + outputOffsets[this.syncOutput]!,
    }));
    this.coveredLines = lines.slice(0, outputEnd);
    this.syncOriginal = originalEnd;
    this.syncOutput = outputEnd;
    this.hunks.push(...shifted);
    return shifted;
  }
}
