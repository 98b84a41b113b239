// Line-based three-way merge (diff3): the user's edits and the shadow's edits, each against the
// base recorded at copy-up. Non-overlapping hunks from both sides are combined; overlapping hunks
// that differ are conflicts. Pure.
import { diffArrays } from 'diff';

interface Hunk {
  /** Base lines [start, end) are replaced by `lines`. */
  start: number;
  end: number;
  lines: string[];
}

export interface MergeResult {
  /** The merged text; where conflicts remain, with <<<<<<< / ||||||| / ======= / >>>>>>> markers. */
  text: string;
  conflicts: number;
}

/** Splits text into lines, each keeping its line ending, so joining gives the text back exactly. */
export function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

function hunksOf(base: string[], side: string[]): Hunk[] {
  const hunks: Hunk[] = [];
  let position = 0;
  let pending: Hunk | undefined;
  for (const change of diffArrays(base, side)) {
    const count = change.value.length;
    if (!change.added && !change.removed) {
      if (pending) hunks.push(pending);
      pending = undefined;
      position += count;
      continue;
    }
    pending ??= { start: position, end: position, lines: [] };
    if (change.removed) {
      pending.end += count;
      position += count;
    } else pending.lines.push(...change.value);
  }
  if (pending) hunks.push(pending);
  return hunks;
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

/** Applies one side's hunks that fall within base [start, end) to that base range. */
function applyWithin(base: string[], hunks: Hunk[], start: number, end: number): string[] {
  const out: string[] = [];
  let position = start;
  for (const hunk of hunks) {
    out.push(...base.slice(position, hunk.start), ...hunk.lines);
    position = hunk.end;
  }
  out.push(...base.slice(position, end));
  return out;
}

export function merge3(baseText: string, oursText: string, theirsText: string, labels = { ours: 'yours', base: 'base', theirs: 'shadow' }): MergeResult {
  if (oursText === theirsText) return { text: oursText, conflicts: 0 };
  if (baseText === oursText) return { text: theirsText, conflicts: 0 };
  if (baseText === theirsText) return { text: oursText, conflicts: 0 };
  const base = splitLines(baseText);
  const ours = hunksOf(base, splitLines(oursText)).map((h) => ({ ...h, side: 0 as const }));
  const theirs = hunksOf(base, splitLines(theirsText)).map((h) => ({ ...h, side: 1 as const }));
  const all = [...ours, ...theirs].sort((a, b) => a.start - b.start || a.end - b.end);

  const out: string[] = [];
  let conflicts = 0;
  let position = 0;
  let i = 0;
  while (i < all.length) {
    // A group: hunks whose base ranges overlap or touch (insertions at the same point).
    const group = [all[i]!];
    let groupEnd = all[i]!.end;
    let groupStart = all[i]!.start;
    i++;
    while (i < all.length && (all[i]!.start < groupEnd || (all[i]!.start === groupEnd && (all[i]!.start === all[i]!.end || groupStart === groupEnd)))) {
      groupEnd = Math.max(groupEnd, all[i]!.end);
      group.push(all[i]!);
      i++;
    }
    groupStart = Math.min(...group.map((h) => h.start));
    out.push(...base.slice(position, groupStart));
    const oursHunks = group.filter((h) => h.side === 0);
    const theirsHunks = group.filter((h) => h.side === 1);
    const oursLines = applyWithin(base, oursHunks, groupStart, groupEnd);
    const theirsLines = applyWithin(base, theirsHunks, groupStart, groupEnd);
    if (oursHunks.length === 0) out.push(...theirsLines);
    else if (theirsHunks.length === 0) out.push(...oursLines);
    else if (sameLines(oursLines, theirsLines)) out.push(...oursLines);
    else {
      conflicts++;
      const ensureNewline = (lines: string[]) => lines.map((line, k) => (k === lines.length - 1 && !line.endsWith('\n') ? line + '\n' : line));
      out.push(`<<<<<<< ${labels.ours}\n`, ...ensureNewline(oursLines));
      out.push(`||||||| ${labels.base}\n`, ...ensureNewline(base.slice(groupStart, groupEnd)));
      out.push('=======\n', ...ensureNewline(theirsLines), `>>>>>>> ${labels.theirs}\n`);
    }
    position = groupEnd;
  }
  out.push(...base.slice(position));
  return { text: out.join(''), conflicts };
}
