// What every next-edit rule shares: a rule maps a document (and the span of the user's own edit,
// never to be proposed again) to its proposals there.
import type { EditDocument, EditProposal, OffsetEdit } from './propagate.js';

export type Rule = (document: EditDocument, exclude: { start: number; end: number } | undefined) => EditProposal[];

/** The whole lines an edit touched, before and after, and where it starts in its first line. */
export interface LineChange {
  oldLines: string[];
  newLines: string[];
  offsetInLine: number;
}

export function proposal(document: EditDocument, edits: OffsetEdit[], reason: string): EditProposal {
  return { uri: document.uri, version: document.version, edits, reason, anchor: edits[0]!.start };
}

export const overlaps = (start: number, end: number, span: { start: number; end: number } | undefined) =>
  span !== undefined && start <= span.end && end >= span.start;

/** Whether `at` in `line` is inside a string literal or a line comment. */
export function inStringOrComment(line: string, at: number): boolean {
  let quote: string | undefined;
  for (let i = 0; i < at && i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === '`') quote = char;
    else if ((char === '/' && line[i + 1] === '/') || char === '#') return true;
  }
  return quote !== undefined;
}
