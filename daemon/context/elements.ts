// A prompt is a tree of elements. Leaves carry text; groups carry a header and children. Each
// element has a kind (what it is), a priority (what survives when the budget is short) and an
// order key (where it goes in the rendered prompt: stable things first, so that llama.cpp's
// cache_prompt, hosted prompt caches and the onnx prefix cache keep hitting across keystrokes).

/** What an element is. The kinds a completion prompt is built from, in falling priority. */
export type ElementKind = 'cursorWindow' | 'recentEdit' | 'openFile' | 'indexResult' | 'definition' | 'instruction';

/** Default priority of each kind: higher survives first. */
export const kindPriority: Record<ElementKind, number> = {
  instruction: 100,
  cursorWindow: 90,
  recentEdit: 70,
  openFile: 50,
  indexResult: 40,
  definition: 30,
};

/**
 * Where each kind is placed, first to last. Things that change least between keystrokes go
 * first: open-file snippets (a ring that changes when the user switches files), definitions
 * (change when the symbols near the cursor do), recent edits (oldest first, so a new edit only
 * appends), index results (a query of the text being typed: the most volatile), then the cursor.
 */
export const kindPlacement: Record<ElementKind, number> = {
  instruction: 0,
  openFile: 1,
  definition: 2,
  recentEdit: 3,
  indexResult: 4,
  cursorWindow: 5,
};

export interface LineRange {
  /** First line, 0-based. */
  start: number;
  /** Line after the last one (exclusive). */
  end: number;
}

export interface PromptLeaf {
  /** Unique, stable across renders of the same content (e.g. `openFile:src/a.ts:10`). */
  id: string;
  kind: ElementKind;
  text: string;
  /** File the text comes from. */
  path?: string;
  /** Lines of `path` the text covers. */
  lines?: LineRange;
  /** Overrides the kind's priority. */
  priority?: number;
  /** Relevance within its kind, 0..1: breaks ties between equal priorities (higher first). */
  score?: number;
  /**
   * Placement within its kind; lower first. Use when the element entered the context (a ring
   * buffer's insertion counter, an edit's time) so the rendered order does not shuffle when
   * scores change. Defaults to ordering by path and line.
   */
  order?: number;
}

export interface PromptGroup {
  id: string;
  /** Text placed before the children (e.g. a section title); counted only when a child is kept. */
  header?: string;
  /** Children inherit this priority when they set none. */
  priority?: number;
  children: PromptNode[];
}

export type PromptNode = PromptLeaf | PromptGroup;

export function isGroup(node: PromptNode): node is PromptGroup {
  return (node as PromptGroup).children !== undefined;
}

/** The text around the cursor; always kept, trimmed from its far ends when it alone is too long. */
export interface CursorWindow {
  path: string;
  /** Text before the cursor (to the start of the window). */
  prefix: string;
  /** Text after the cursor (to the end of the window). */
  suffix: string;
  /** Line of the window's first line in the file, 0-based; used to spot snippets that repeat it. */
  startLine?: number;
}
