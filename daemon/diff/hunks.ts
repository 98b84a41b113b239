// Line hunks between two texts: contiguous runs of changed lines. The `diff` package's Myers
// diff does the alignment; common head and tail are trimmed first, so a small edit to a large
// file costs little more than reading it.
import { diffArrays } from 'diff';
import { lineOffsets, splitLines } from './lines.js';

/** One contiguous changed region, in whole lines (terminators included). */
export interface LineHunk {
  /** Line range in the old text, end exclusive. */
  oldStart: number;
  oldEnd: number;
  /** Line range in the new text, end exclusive. */
  newStart: number;
  newEnd: number;
  /** UTF-16 offsets of the same ranges. */
  oldOffset: number;
  oldEndOffset: number;
  newOffset: number;
  newEndOffset: number;
  oldText: string;
  newText: string;
}

export function diffLineArrays(oldLines: readonly string[], newLines: readonly string[]): LineHunk[] {
  let head = 0;
  const max = Math.min(oldLines.length, newLines.length);
  while (head < max && oldLines[head] === newLines[head]) head++;
  let tail = 0;
  while (tail < max - head && oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]) tail++;
  const oldMid = oldLines.slice(head, oldLines.length - tail);
  const newMid = newLines.slice(head, newLines.length - tail);
  const oldOffsets = lineOffsets(oldLines);
  const newOffsets = lineOffsets(newLines);
  const hunks: LineHunk[] = [];
  if (oldMid.length === 0 && newMid.length === 0) return hunks;

  const changes = oldMid.length === 0 || newMid.length === 0
    ? [{ value: oldMid.length ? oldMid : newMid, count: Math.max(oldMid.length, newMid.length), added: oldMid.length === 0, removed: newMid.length === 0 }]
    : diffArrays(oldMid as string[], newMid as string[]);
  let oldLine = head;
  let newLine = head;
  let open: { oldStart: number; newStart: number } | undefined;
  const close = () => {
    if (!open) return;
    hunks.push(makeHunk(open.oldStart, oldLine, open.newStart, newLine));
    open = undefined;
  };
  const makeHunk = (oldStart: number, oldEnd: number, newStart: number, newEnd: number): LineHunk => ({
    oldStart,
    oldEnd,
    newStart,
    newEnd,
    oldOffset: oldOffsets[oldStart]!,
    oldEndOffset: oldOffsets[oldEnd]!,
    newOffset: newOffsets[newStart]!,
    newEndOffset: newOffsets[newEnd]!,
    oldText: oldLines.slice(oldStart, oldEnd).join(''),
    newText: newLines.slice(newStart, newEnd).join(''),
  });
  for (const change of changes) {
    const count = change.count ?? change.value.length;
    if (change.added) {
      open ??= { oldStart: oldLine, newStart: newLine };
      newLine += count;
    } else if (change.removed) {
      open ??= { oldStart: oldLine, newStart: newLine };
      oldLine += count;
    } else {
      close();
      oldLine += count;
      newLine += count;
    }
  }
  close();
  return hunks;
}

export function diffTexts(oldText: string, newText: string): LineHunk[] {
  return diffLineArrays(splitLines(oldText), splitLines(newText));
}
