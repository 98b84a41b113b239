// Word-level changes inside a hunk, so a plugin can highlight what changed within a line.
import { diffWordsWithSpace } from 'diff';
import type { LineHunk } from './hunks.js';

/** A word-level change; `offset` is absolute: in the old text for deletions, in the new for insertions. */
export interface WordEdit {
  kind: 'insert' | 'delete';
  offset: number;
  text: string;
}

/** Hunks larger than this get no word diff (it would cost more than it helps to read). */
export const MAX_WORD_DIFF_CHARS = 20_000;

export function wordEdits(hunk: LineHunk): WordEdit[] {
  if (hunk.oldText.length === 0 || hunk.newText.length === 0) {
    // A pure insertion or deletion: the whole hunk is the change.
    if (hunk.newText) return [{ kind: 'insert', offset: hunk.newOffset, text: hunk.newText }];
    if (hunk.oldText) return [{ kind: 'delete', offset: hunk.oldOffset, text: hunk.oldText }];
    return [];
  }
  if (hunk.oldText.length + hunk.newText.length > MAX_WORD_DIFF_CHARS) return [];
  const edits: WordEdit[] = [];
  let oldOffset = hunk.oldOffset;
  let newOffset = hunk.newOffset;
  for (const change of diffWordsWithSpace(hunk.oldText, hunk.newText)) {
    if (change.added) {
      pushMerged(edits, { kind: 'insert', offset: newOffset, text: change.value });
      newOffset += change.value.length;
    } else if (change.removed) {
      pushMerged(edits, { kind: 'delete', offset: oldOffset, text: change.value });
      oldOffset += change.value.length;
    } else {
      oldOffset += change.value.length;
      newOffset += change.value.length;
    }
  }
  return edits;
}

function pushMerged(edits: WordEdit[], edit: WordEdit): void {
  const last = edits[edits.length - 1];
  if (last && last.kind === edit.kind && last.offset + last.text.length === edit.offset) last.text += edit.text;
  else edits.push(edit);
}
