// tree-sitter, through the WebAssembly grammars of @vscode/tree-sitter-wasm: parses a file and
// reduces its tree to what the index needs, an outline for chunking and the definitions for the
// symbol table. Runs inside parse workers only (parsing is CPU work that must stay off the
// daemon's main thread).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Language, Node, Parser as ParserType, Query } from '@vscode/tree-sitter-wasm';
import type { OutlineNode } from './chunk.js';
import { grammarOf } from './languages.js';

const require = createRequire(import.meta.url);
type TreeSitterModule = typeof import('@vscode/tree-sitter-wasm');

/** LSP SymbolKind values. */
export const SymbolKind = {
  Module: 2, Namespace: 3, Class: 5, Method: 6, Property: 7, Field: 8, Constructor: 9, Enum: 10,
  Interface: 11, Function: 12, Variable: 13, Constant: 14, Struct: 23, TypeParameter: 26,
} as const;

const DEFINITIONS: Readonly<Record<string, number>> = {
  class_declaration: SymbolKind.Class,
  abstract_class_declaration: SymbolKind.Class,
  class_definition: SymbolKind.Class,
  class_specifier: SymbolKind.Class,
  class: SymbolKind.Class,
  record_declaration: SymbolKind.Class,
  interface_declaration: SymbolKind.Interface,
  trait_item: SymbolKind.Interface,
  trait_declaration: SymbolKind.Interface,
  function_declaration: SymbolKind.Function,
  generator_function_declaration: SymbolKind.Function,
  function_definition: SymbolKind.Function,
  function_item: SymbolKind.Function,
  function_statement: SymbolKind.Function,
  method_definition: SymbolKind.Method,
  method_declaration: SymbolKind.Method,
  method: SymbolKind.Method,
  singleton_method: SymbolKind.Method,
  constructor_declaration: SymbolKind.Constructor,
  enum_declaration: SymbolKind.Enum,
  enum_item: SymbolKind.Enum,
  enum_specifier: SymbolKind.Enum,
  struct_item: SymbolKind.Struct,
  struct_specifier: SymbolKind.Struct,
  struct_declaration: SymbolKind.Struct,
  type_alias_declaration: SymbolKind.TypeParameter,
  type_item: SymbolKind.TypeParameter,
  type_spec: SymbolKind.TypeParameter,
  module: SymbolKind.Module,
  mod_item: SymbolKind.Module,
  internal_module: SymbolKind.Namespace,
  namespace_definition: SymbolKind.Namespace,
  namespace_declaration: SymbolKind.Namespace,
  impl_item: SymbolKind.Class,
};

export interface SymbolDefinition {
  name: string;
  kind: number;
  /** Zero-based lines, inclusive. */
  startLine: number;
  endLine: number;
  /** Where the name itself starts (UTF-16 code units). */
  nameLine: number;
  nameCharacter: number;
  /** Enclosing definitions, outermost first, joined by '.'. */
  container: string;
}

export interface ParsedSyntax {
  outline: OutlineNode[];
  symbols: SymbolDefinition[];
}

let modulePromise: Promise<TreeSitterModule> | undefined;
interface Grammar {
  parser: ParserType;
  /** Captures every definition node (@def) this grammar has. */
  definitions: Query | undefined;
}
const grammars = new Map<string, Promise<Grammar | undefined>>();

function wasmDir(): string {
  return join(dirname(require.resolve('@vscode/tree-sitter-wasm')));
}

function loadModule(): Promise<TreeSitterModule> {
  modulePromise ??= (async () => {
    const module = require('@vscode/tree-sitter-wasm') as TreeSitterModule;
    const dir = wasmDir();
    await module.Parser.init({ locateFile: (file: string) => join(dir, file) });
    return module;
  })();
  return modulePromise;
}

async function loadGrammar(name: string): Promise<Grammar | undefined> {
  const module = await loadModule();
  let language: Language;
  try {
    language = await module.Language.load(join(wasmDir(), `tree-sitter-${name}.wasm`));
  } catch {
    return undefined;
  }
  const parser = new module.Parser();
  parser.setLanguage(language);
  // Only node types this grammar has: a query naming an unknown type does not compile.
  const types = [...Object.keys(DEFINITIONS), 'variable_declarator'].filter((type) => language.idForNodeType(type, true) !== null);
  let definitions: Query | undefined;
  if (types.length) {
    try {
      definitions = new module.Query(language, types.map((type) => `(${type}) @def`).join('\n'));
    } catch {
      definitions = undefined;
    }
  }
  return { parser, definitions };
}

function grammarFor(language: string): Promise<Grammar | undefined> {
  const name = grammarOf(language);
  if (!name) return Promise.resolve(undefined);
  let grammar = grammars.get(name);
  if (!grammar) {
    grammar = loadGrammar(name);
    grammars.set(name, grammar);
  }
  return grammar;
}

function nameOf(node: Node): Node | null {
  if (node.type === 'impl_item') return node.childForFieldName('type');
  let named = node.childForFieldName('name');
  if (named) return named;
  // C and C++ put the name inside nested declarators: int *f(int) -> function_declarator -> f.
  let declarator = node.childForFieldName('declarator');
  for (let depth = 0; declarator && depth < 6; depth++) {
    if (/identifier|name$/.test(declarator.type)) return declarator;
    named = declarator.childForFieldName('name');
    if (named) return named;
    declarator = declarator.childForFieldName('declarator') ?? declarator.namedChildren.find((c) => c !== null && /identifier/.test(c.type)) ?? null;
  }
  return null;
}

/** A definition's kind and name node, or undefined for other nodes. */
function definitionOf(node: Node): { kind: number; name: Node } | undefined {
  let kind = DEFINITIONS[node.type];
  if (kind === undefined && node.type === 'variable_declarator') {
    const value = node.childForFieldName('value');
    if (value && /^(arrow_function|function_expression|function|class)$/.test(value.type)) kind = value.type === 'class' ? SymbolKind.Class : SymbolKind.Function;
  }
  if (kind === undefined) return undefined;
  const name = nameOf(node);
  if (!name || name.text.length === 0 || name.text.length > 200) return undefined;
  return { kind, name };
}

const MAX_OUTLINE_DEPTH = 40;
const MAX_SYMBOLS_PER_FILE = 20_000;

/** Last line a node covers (a node ending at column 0 ends on the line before). */
const lastLine = (node: Node) => {
  const start = node.startPosition.row;
  const end = node.endPosition;
  return Math.max(start, end.column === 0 && end.row > start ? end.row - 1 : end.row);
};

/**
 * Parses `text` as `language`; undefined when there is no grammar for it. The outline descends
 * only into nodes too big for one chunk (`sizeOf` gives a line range's size), which is all the
 * chunker needs; definitions come from a tree-sitter query, which runs inside WebAssembly.
 */
export async function parseSyntax(
  text: string,
  language: string,
  lines: readonly string[],
  sizeOf: (startLine: number, endLine: number) => number = () => Infinity,
  maxChunk = Infinity,
): Promise<ParsedSyntax | undefined> {
  const grammar = await grammarFor(language);
  if (!grammar) return undefined;
  const tree = grammar.parser.parse(text);
  if (!tree) return undefined;
  try {
    // Definitions, with their containers from how their ranges nest.
    const symbols: SymbolDefinition[] = [];
    const nameAt = new Map<number, string>();
    const captures = grammar.definitions?.captures(tree.rootNode) ?? [];
    const stack: Array<{ end: number; name: string }> = [];
    for (const capture of captures) {
      if (symbols.length >= MAX_SYMBOLS_PER_FILE) break;
      const node = capture.node;
      const definition = definitionOf(node);
      if (!definition) continue;
      while (stack.length && stack[stack.length - 1]!.end <= node.startIndex) stack.pop();
      const name = definition.name.text;
      const nameLine = definition.name.startPosition.row;
      symbols.push({
        name,
        kind: definition.kind,
        startLine: node.startPosition.row,
        endLine: lastLine(node),
        nameLine,
        nameCharacter: Math.max(0, lines[nameLine]?.indexOf(name) ?? 0),
        container: stack.map((entry) => entry.name).join('.'),
      });
      nameAt.set(node.id, name);
      stack.push({ end: node.endIndex, name });
    }
    const defsByLine = new Map<number, SymbolDefinition[]>();
    for (const symbol of symbols) {
      const list = defsByLine.get(symbol.startLine) ?? [];
      list.push(symbol);
      defsByLine.set(symbol.startLine, list);
    }
    const build = (node: Node, depth: number): OutlineNode => {
      const start = node.startPosition.row;
      const end = lastLine(node);
      const name = nameAt.get(node.id);
      const children: OutlineNode[] = [];
      if (end > start && depth < MAX_OUTLINE_DEPTH && sizeOf(start, end) > maxChunk) {
        for (const child of node.namedChildren) if (child) children.push(build(child, depth + 1));
      }
      const outline: OutlineNode = { startLine: start, endLine: end, ...(name !== undefined && { name }), children };
      if (name === undefined && children.length === 0) {
        // A wrapper (export statement, decorated definition) names what it defines.
        const inside = [...(defsByLine.get(start) ?? []), ...(defsByLine.get(start + 1) ?? [])].find((symbol) => symbol.endLine <= end);
        if (inside) outline.defines = [inside.name];
      }
      return outline;
    };
    const outline = tree.rootNode.namedChildren.filter((n): n is Node => n !== null).map((node) => build(node, 0));
    return { outline, symbols };
  } finally {
    tree.delete();
  }
}
