// Worker thread for the syntax check: parses texts with a tree-sitter grammar and counts error
// and missing nodes. Parsing is CPU work that must stay off the daemon's main thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { Parser as ParserType, Tree } from '@vscode/tree-sitter-wasm';

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

function countErrors(tree: Tree): number {
  if (!tree.rootNode.hasError) return 0;
  let count = 0;
  const cursor = tree.walk();
  let descend = true;
  for (;;) {
    if (descend) {
      if (cursor.nodeType === 'ERROR' || cursor.nodeIsMissing) count++;
      if (cursor.gotoFirstChild()) continue;
    }
    if (cursor.gotoNextSibling()) {
      descend = true;
      continue;
    }
    if (!cursor.gotoParent()) break;
    descend = false;
  }
  cursor.delete();
  return count;
}

parentPort!.on('message', async (message: { id: number; grammar: string; texts: string[] }) => {
  try {
    const parser = await parserFor(message.grammar);
    if (!parser) {
      parentPort!.postMessage({ id: message.id, counts: null });
      return;
    }
    const counts = message.texts.map((text) => {
      const tree = parser.parse(text);
      if (!tree) return 0;
      const errors = countErrors(tree);
      tree.delete();
      return errors;
    });
    parentPort!.postMessage({ id: message.id, counts });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, counts: null, error: String(error) });
  }
});
