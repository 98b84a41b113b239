// The model-based next edit: the model rewrites an editable region around the cursor, given the
// user's recent edits as unified diffs (newest first); its output is diffed back into minimal
// edits. Edits that would undo the user's own recent edit, or that the model could not have meant
// (truncated output, text it was not shown), are dropped. Prompt formats are pluggable. Pure.
import { createTwoFilesPatch, diffLines } from 'diff';

export const REGION_START = '<|editable_region_start|>';
export const REGION_END = '<|editable_region_end|>';
export const CURSOR = '<|user_cursor_is_here|>';

export interface RecentEdit {
  uri: string;
  /** Text around the edit before and after it (a few lines), for the diff. */
  before: string;
  after: string;
}

export interface RegionPromptInput {
  filename: string;
  text: string;
  cursorOffset: number;
  /** Edits newest first. */
  recentEdits: RecentEdit[];
  /** Lines of editable region above and below the cursor. */
  linesAbove?: number;
  linesBelow?: number;
  /** Lines of read-only context shown around the region. */
  contextLines?: number;
  maxEditChars?: number;
}

export interface RegionPrompt {
  prompt: string;
  /** The editable region, in offsets of `text`. */
  regionStart: number;
  regionEnd: number;
  /** What the model was shown, in offsets of `text` (edits outside it are refused). */
  shownStart: number;
  shownEnd: number;
}

/** A prompt format: how the parts are laid out for a given model. */
export interface RegionPromptFormat {
  name: string;
  render(parts: { filename: string; diffs: string; before: string; region: string; after: string }): string;
}

/** Zeta-style layout, also a reasonable instruction for general chat models. */
export const zetaFormat: RegionPromptFormat = {
  name: 'zeta',
  render: ({ filename, diffs, before, region, after }) =>
    `### Instruction:\nYou predict the user's next edit. Rewrite the editable region, applying the edit the user is ` +
    `most likely to make next given their recent edits. Keep everything else verbatim. Answer with the region only, ` +
    `between the markers.\n\n### User Edits (newest first):\n${diffs || '(none)'}\n\n### User Excerpt:\n` +
    `\`\`\`${filename}\n${before}${REGION_START}\n${region}${REGION_END}\n${after}\`\`\`\n\n### Response:\n`,
};

/** Start of the line `lines` lines above the one holding `offset`. */
export function lineStartAbove(text: string, offset: number, lines: number): number {
  let at = text.lastIndexOf('\n', offset - 1) + 1;
  for (let i = 0; i < lines && at > 0; i++) at = text.lastIndexOf('\n', at - 2) + 1;
  return at;
}

/** End (after the newline) of the line `lines` lines below the one holding `offset`. */
export function lineEndBelow(text: string, offset: number, lines: number): number {
  let at = text.indexOf('\n', offset);
  for (let i = 0; i < lines && at >= 0; i++) at = text.indexOf('\n', at + 1);
  return at < 0 ? text.length : at + 1;
}

export function renderRegionPrompt(input: RegionPromptInput, format: RegionPromptFormat = zetaFormat): RegionPrompt {
  const { text, cursorOffset } = input;
  const regionStart = lineStartAbove(text, cursorOffset, input.linesAbove ?? 5);
  const regionEnd = lineEndBelow(text, cursorOffset, input.linesBelow ?? 5);
  const shownStart = lineStartAbove(text, regionStart, input.contextLines ?? 20);
  const shownEnd = regionEnd >= text.length ? regionEnd : lineEndBelow(text, regionEnd, (input.contextLines ?? 20) - 1);
  const region = text.slice(regionStart, cursorOffset) + CURSOR + text.slice(cursorOffset, regionEnd);
  let diffs = '';
  for (const edit of input.recentEdits) {
    const patch = createTwoFilesPatch(edit.uri, edit.uri, edit.before, edit.after, '', '', { context: 2 })
      .split('\n')
      .slice(2)
      .join('\n');
    if (diffs.length + patch.length > (input.maxEditChars ?? 4000)) break;
    diffs += patch;
  }
  const prompt = format.render({
    filename: input.filename,
    diffs: diffs.trimEnd(),
    before: text.slice(shownStart, regionStart),
    region: region.endsWith('\n') ? region : `${region}\n`,
    after: text.slice(regionEnd, shownEnd),
  });
  return { prompt, regionStart, regionEnd, shownStart, shownEnd };
}

export interface RegionEdit {
  start: number;
  end: number;
  newText: string;
}

/**
 * The model's rewritten region back to minimal edits in offsets of the document text; null when
 * the output is unusable (no markers where they are needed, truncated, or empty).
 */
export function parseRegionOutput(output: string, prompt: RegionPrompt, text: string): RegionEdit[] | null {
  let body = output;
  const start = body.indexOf(REGION_START);
  if (start >= 0) body = body.slice(start + REGION_START.length).replace(/^\r?\n/, '');
  const end = body.indexOf(REGION_END);
  if (end < 0) return null; // truncated: the model never finished the region
  body = body.slice(0, end).replace(CURSOR, '');
  const original = text.slice(prompt.regionStart, prompt.regionEnd);
  const normalizedOriginal = original.endsWith('\n') ? original : `${original}\n`;
  if (!body.endsWith('\n')) body += '\n';
  if (body.trim().length === 0 && original.trim().length > 0) return null;
  if (body.length < normalizedOriginal.length / 3) return null;
  const edits: RegionEdit[] = [];
  let at = prompt.regionStart;
  let pendingRemoved = '';
  let pendingAdded = '';
  let pendingStart = at;
  const flush = () => {
    if (pendingRemoved === pendingAdded) return;
    const removedLines = pendingRemoved.split('\n');
    const addedLines = pendingAdded.split('\n');
    if (removedLines.length === addedLines.length) {
      // Line for line: one minimal edit per changed line.
      let lineStart = pendingStart;
      removedLines.forEach((line, k) => {
        if (line !== addedLines[k]) edits.push(minimalEdit(lineStart, line, addedLines[k]!));
        lineStart += line.length + 1;
      });
      return;
    }
    edits.push(minimalEdit(pendingStart, pendingRemoved, pendingAdded));
  };
  for (const part of diffLines(normalizedOriginal, body)) {
    if (!part.added && !part.removed) {
      flush();
      pendingRemoved = '';
      pendingAdded = '';
      at += part.value.length;
      pendingStart = at;
    } else if (part.removed) {
      pendingRemoved += part.value;
      at += part.value.length;
    } else pendingAdded += part.value;
  }
  flush();
  // The synthetic final newline must not become an edit past the region.
  return edits
    .map((edit) => ({ ...edit, end: Math.min(edit.end, prompt.regionEnd), start: Math.min(edit.start, prompt.regionEnd) }))
    .filter((edit) => edit.start < edit.end || edit.newText.length > 0);
}

function minimalEdit(start: number, removed: string, added: string): RegionEdit {
  let head = 0;
  while (head < removed.length && head < added.length && removed[head] === added[head]) head++;
  let tail = 0;
  while (tail < removed.length - head && tail < added.length - head && removed[removed.length - 1 - tail] === added[added.length - 1 - tail]) tail++;
  return { start: start + head, end: start + removed.length - tail, newText: added.slice(head, added.length - tail) };
}

export interface UserEdit {
  /** Where the user's inserted text now starts. */
  offset: number;
  deletedText: string;
  insertedText: string;
}

/** Drops edits that revert one of the user's recent edits or touch text the model was not shown. */
export function filterRegionEdits(edits: RegionEdit[], prompt: RegionPrompt, text: string, userEdits: readonly UserEdit[]): RegionEdit[] {
  return edits.filter((edit) => {
    if (edit.start < prompt.regionStart || edit.end > prompt.regionEnd) return false;
    for (const user of userEdits) {
      const userEnd = user.offset + user.insertedText.length;
      if (edit.end < user.offset || edit.start > userEnd) continue;
      // Applying the edit around the user's edit brings back what the user removed.
      const replaced = text.slice(edit.start, edit.end);
      const removesTyped = user.insertedText === '' || replaced.includes(user.insertedText) || user.insertedText.includes(replaced);
      const restores = user.deletedText === '' ? removesTyped && edit.newText === '' : edit.newText.includes(user.deletedText);
      if (removesTyped && restores) return false;
    }
    return true;
  });
}
