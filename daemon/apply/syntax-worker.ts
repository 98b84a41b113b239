// Worker thread for the syntax check: parses texts with a tree-sitter grammar and counts error
// and missing nodes. Parsing is CPU work that must stay off the daemon's main thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { Node, Parser as ParserType, Tree } from '@vscode/tree-sitter-wasm';

const require = createRequire(import.meta.url);
type TreeSitter = typeof import('@vscode/tree-sitter-wasm');
const dir = dirname(require.resolve('@vscode/tree-sitter-wasm'));
let ready: Promise<TreeSitter> | undefined;
const parsers = new Map<string, Promise<ParserType | undefined>>();

function parserFor(grammar: string): Promise<ParserType | undefined> {
  ready ??= (async () => {
    const module = require('@vscode/tree-sitter-wasm') as TreeSitter;
    await module.Parser.init({ locateFile: (file: string) => join(dir, file) });
    return module;
  })();
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = ready.then(async (module) => {
      try {
        const language = await module.Language.load(join(dir, `tree-sitter-${grammar}.wasm`));
        const instance = new module.Parser();
        instance.setLanguage(language);
        return instance;
      } catch {
        return undefined;
      }
    });
    parsers.set(grammar, parser);
  }
  return parser;
}

/** Error and missing nodes, visiting only subtrees that contain errors. */
function countErrors(node: Node): number {
  if (!node.hasError && !node.isMissing) return 0;
  if (node.type === 'ERROR' || node.isMissing) return 1 + node.children.reduce((sum, child) => sum + (child ? countErrors(child) : 0), 0);
  let count = 0;
  for (const child of node.children) if (child) count += countErrors(child);
  return count;
}

/**
 * Recently parsed originals, so repeated applies to the same text skip the full parse; the result
 * text is parsed incrementally from the original's tree (only the changed span is re-parsed).
 */
const recent: Array<{ grammar: string; text: string; tree: Tree; errors: number }> = [];

function originalTree(parser: ParserType, grammar: string, text: string): { tree: Tree; errors: number } | undefined {
  const hit = recent.find((entry) => entry.grammar === grammar && entry.text === text);
  if (hit) return hit;
  const tree = parser.parse(text);
  if (!tree) return undefined;
  const entry = { grammar, text, tree, errors: countErrors(tree.rootNode) };
  recent.unshift(entry);
  while (recent.length > 4) recent.pop()!.tree.delete();
  return entry;
}

/** Row and column (UTF-16 units) where `text` ends, counted from `from`. */
function advance(from: { row: number; column: number }, text: string): { row: number; column: number } {
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline < 0) return { row: from.row, column: from.column + text.length };
  let rows = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) rows++;
  return { row: from.row + rows, column: text.length - lastNewline - 1 };
}

export interface TextHunk {
  /** Offsets of the hunk in the new text, and the text it replaced. */
  newOffset: number;
  newEndOffset: number;
  oldText: string;
}

/** Re-parses the result from the original's tree, telling tree-sitter about each changed span. */
function resultErrors(parser: ParserType, original: { tree: Tree }, after: string, hunks: readonly TextHunk[]): number | undefined {
  const edited = original.tree.copy();
  // Hunks in order; each edit is expressed in the text as already edited before it (= `after` up to the hunk).
  let cursor = 0;
  let point = { row: 0, column: 0 };
  for (const hunk of hunks) {
    point = advance(point, after.slice(cursor, hunk.newOffset));
    cursor = hunk.newOffset;
    edited.edit({
      startIndex: hunk.newOffset,
      oldEndIndex: hunk.newOffset + hunk.oldText.length,
      newEndIndex: hunk.newEndOffset,
      startPosition: point,
      oldEndPosition: advance(point, hunk.oldText),
      newEndPosition: advance(point, after.slice(hunk.newOffset, hunk.newEndOffset)),
    });
  }
  const tree = parser.parse(after, edited);
  edited.delete();
  if (!tree) return undefined;
  const errors = countErrors(tree.rootNode);
  tree.delete();
  return errors;
}

parentPort!.on('message', async (message: { id: number; grammar: string; before: string; after: string; hunks: TextHunk[] }) => {
  try {
    const parser = await parserFor(message.grammar);
    const original = parser && originalTree(parser, message.grammar, message.before);
    const after = parser && original ? resultErrors(parser, original, message.after, message.hunks) : undefined;
    parentPort!.postMessage({ id: message.id, counts: original && after !== undefined ? [original.errors, after] : null });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, counts: null, error: String(error) });
  }
});
