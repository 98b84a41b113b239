// From (old text, new text) pairs to what the client sees: line hunks with word-level changes,
// importance and reading order, ranges in the negotiated position encoding, and the TextEdits
// that make up the WorkspaceEdit. Pure.
import type { PositionEncodingKind, ResultOf } from '../../protocol/index.js';
import { diffTexts, type LineHunk, reviewHunks, wordEdits } from '../diff/index.js';
import { computeLineStarts, positionAt } from '../workspace/index.js';

export type Hunk = ResultOf<'caret/diff'>['hunks'][number];
export type TextEdit = ResultOf<'caret/apply'>['edit']['documentChanges'][number]['edits'][number];

export interface FileChange {
  uri: string;
  oldText: string;
  newText: string;
  /** Line hunks already computed (a progressive diff); otherwise the texts are diffed. */
  lineHunks?: LineHunk[];
}

interface Located {
  uri: string;
  hunk: LineHunk;
  oldStarts: number[];
  newStarts: number[];
  oldText: string;
  newText: string;
}

/** Hunks of every file, reviewed together (reading order spans files). */
export function buildHunks(changes: readonly FileChange[], encoding: PositionEncodingKind): Hunk[] {
  const located: Located[] = [];
  for (const change of changes) {
    const hunks = change.lineHunks ?? diffTexts(change.oldText, change.newText);
    if (hunks.length === 0) continue;
    const oldStarts = computeLineStarts(change.oldText);
    const newStarts = computeLineStarts(change.newText);
    for (const hunk of hunks) located.push({ uri: change.uri, hunk, oldStarts, newStarts, oldText: change.oldText, newText: change.newText });
  }
  const reviews = reviewHunks(located.map((item) => item.hunk));
  return located.map((item, index) => {
    const { hunk } = item;
    const review = reviews[index]!;
    const oldPos = (offset: number) => positionAt(item.oldText, item.oldStarts, offset, encoding);
    const newPos = (offset: number) => positionAt(item.newText, item.newStarts, offset, encoding);
    return {
      uri: item.uri,
      order: review.order,
      importance: review.importance,
      reasons: review.reasons,
      oldRange: { start: oldPos(hunk.oldOffset), end: oldPos(hunk.oldEndOffset) },
      newRange: { start: newPos(hunk.newOffset), end: newPos(hunk.newEndOffset) },
      oldText: hunk.oldText,
      newText: hunk.newText,
      words: wordEdits(hunk).map((word) => {
        const pos = word.kind === 'delete' ? oldPos : newPos;
        return { kind: word.kind, range: { start: pos(word.offset), end: pos(word.offset + word.text.length) }, text: word.text };
      }),
    };
  });
}

/** One TextEdit per hunk, in the old document's coordinates (LSP applies them all against it). */
export function hunkEdits(hunks: readonly Hunk[]): TextEdit[] {
  return hunks.map((hunk) => ({ range: hunk.oldRange, newText: hunk.newText }));
}

/** Sorts hunks into reading order. */
export function inReadingOrder<T extends { order: number }>(hunks: readonly T[]): T[] {
  return [...hunks].sort((a, b) => a.order - b.order);
}
