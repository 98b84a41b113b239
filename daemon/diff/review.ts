// What a reviewer needs from a set of hunks: how much each deserves reading (importance) and in
// what order to read them (a definition before its uses). Pure; works across files.
import type { LineHunk } from './hunks.js';
import { codeTokens, definedNames, isIdentifier, usedNames } from './symbols.js';

export type Importance = 'low' | 'normal' | 'high';

export interface HunkReview {
  importance: Importance;
  /** whitespace | rename | repeated | definition */
  reasons: string[];
  /** Reading order, 0-based, over all hunks given. */
  order: number;
}

/** The hunk differs only in whitespace. */
export function isWhitespaceOnly(hunk: Pick<LineHunk, 'oldText' | 'newText'>): boolean {
  return hunk.oldText.replace(/\s+/g, '') === hunk.newText.replace(/\s+/g, '');
}

/**
 * The hunk only renames identifiers, consistently: same token sequence except identifiers, and
 * each old name maps to one new name (and back).
 */
export function isPureRename(hunk: Pick<LineHunk, 'oldText' | 'newText'>): boolean {
  const oldTokens = codeTokens(hunk.oldText);
  const newTokens = codeTokens(hunk.newText);
  if (oldTokens.length !== newTokens.length || oldTokens.length === 0) return false;
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  let renamed = false;
  for (let i = 0; i < oldTokens.length; i++) {
    const a = oldTokens[i]!;
    const b = newTokens[i]!;
    if (a === b) {
      if (forward.has(a) && forward.get(a) !== a) return false;
      continue;
    }
    if (!isIdentifier(a) || !isIdentifier(b)) return false;
    if ((forward.get(a) ?? b) !== b || (backward.get(b) ?? a) !== a) return false;
    forward.set(a, b);
    backward.set(b, a);
    renamed = true;
  }
  return renamed;
}

/** A whitespace-insensitive signature of the change, to spot the same edit made in many places. */
function changeSignature(hunk: Pick<LineHunk, 'oldText' | 'newText'>): string {
  const squash = (text: string) => text.split(/\r\n|\r|\n/).map((line) => line.trim()).filter(Boolean).join('\n');
  return `${squash(hunk.oldText)}\u0000${squash(hunk.newText)}`;
}

/** Names whose definition a hunk changes (defined in its old or new text, and actually altered). */
function changedDefinitions(hunk: Pick<LineHunk, 'oldText' | 'newText'>): Set<string> {
  const names = new Set<string>();
  for (const name of definedNames(hunk.newText)) names.add(name);
  for (const name of definedNames(hunk.oldText)) names.add(name);
  return names;
}

/**
 * Importance and reading order for hunks given in document order (file by file). A hunk that
 * changes a definition another hunk uses is read first; otherwise document order holds.
 */
export function reviewHunks(hunks: ReadonlyArray<Pick<LineHunk, 'oldText' | 'newText'>>): HunkReview[] {
  const defines = hunks.map(changedDefinitions);
  const uses = hunks.map((hunk) => usedNames(hunk.newText + '\n' + hunk.oldText));
  // dependsOn[b] holds every a that b should follow.
  const dependsOn = hunks.map(() => new Set<number>());
  const usedByOthers = hunks.map(() => false);
  for (let a = 0; a < hunks.length; a++) {
    if (defines[a]!.size === 0) continue;
    for (let b = 0; b < hunks.length; b++) {
      if (a === b) continue;
      for (const name of defines[a]!) {
        if (uses[b]!.has(name) && !defines[b]!.has(name)) {
          dependsOn[b]!.add(a);
          usedByOthers[a] = true;
          break;
        }
      }
    }
  }
  // Hunks that use each other's definitions say nothing about which to read first.
  for (let a = 0; a < hunks.length; a++) {
    for (const b of [...dependsOn[a]!]) {
      if (dependsOn[b]!.has(a)) {
        dependsOn[a]!.delete(b);
        dependsOn[b]!.delete(a);
      }
    }
  }
  usedByOthers.fill(false);
  for (const set of dependsOn) for (const a of set) usedByOthers[a] = true;
  const order = topologicalOrder(hunks.length, dependsOn);

  const seen = new Set<string>();
  return hunks.map((hunk, index) => {
    const reasons: string[] = [];
    let importance: Importance = 'normal';
    const signature = changeSignature(hunk);
    if (isWhitespaceOnly(hunk)) reasons.push('whitespace');
    else if (isPureRename(hunk)) reasons.push('rename');
    if (seen.has(signature)) reasons.push('repeated');
    seen.add(signature);
    if (reasons.length > 0) importance = 'low';
    else if (usedByOthers[index]) {
      importance = 'high';
      reasons.push('definition');
    }
    return { importance, reasons, order: order[index]! };
  });
}

/**
 * Document order, except that a hunk's prerequisites are pulled in just before it (depth first),
 * so a definition is read right before its first use and nothing else moves. A cycle is cut
 * where it is entered.
 */
export function topologicalOrder(count: number, dependsOn: ReadonlyArray<ReadonlySet<number>>): number[] {
  const order = new Array<number>(count).fill(-1);
  const state = new Uint8Array(count); // 0 new, 1 visiting, 2 placed
  let next = 0;
  const visit = (root: number) => {
    // Iterative depth-first search: long dependency chains must not overflow the stack.
    const stack: Array<{ node: number; deps: number[]; index: number }> = [];
    const enter = (node: number) => {
      state[node] = 1;
      stack.push({ node, deps: [...dependsOn[node]!].sort((a, b) => a - b), index: 0 });
    };
    if (state[root] !== 0) return;
    enter(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.index < frame.deps.length) {
        const dep = frame.deps[frame.index++]!;
        if (state[dep] === 0) enter(dep);
        continue;
      }
      stack.pop();
      state[frame.node] = 2;
      order[frame.node] = next++;
    }
  };
  for (let i = 0; i < count; i++) visit(i);
  return order;
}
