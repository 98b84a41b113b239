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

/** Calls `visit` with each line of `text` (split at \n) and the offset where it starts. */
export function forEachLine(text: string, visit: (line: string, lineStart: number) => void): void {
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    visit(text.slice(lineStart, lineEnd), lineStart);
    lineStart = lineEnd + 1;
  }
}

/**
 * Where the block around `from` ends: the end of the last line before the first non-blank line
 * indented less than `indent` (the document's end when none is).
 */
export function blockEnd(text: string, from: number, indent: number): number {
  let end = text.indexOf('\n', from);
  while (end >= 0 && end < text.length) {
    const next = text.indexOf('\n', end + 1);
    const body = text.slice(end + 1, next < 0 ? text.length : next);
    if (body.trim() && body.length - body.trimStart().length < indent) break;
    end = next < 0 ? text.length : next;
  }
  return end < 0 ? text.length : end;
}
