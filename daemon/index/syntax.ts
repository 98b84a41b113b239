// tree-sitter, through the WebAssembly grammars of @vscode/tree-sitter-wasm: parses a file and
// reduces its tree to what the index needs, an outline for chunking and the definitions for the
// symbol table. Runs inside parse workers only (parsing is CPU work that must stay off the
// daemon's main thread).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Language, Node, Parser as ParserType } from '@vscode/tree-sitter-wasm';
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
const languages = new Map<string, Promise<Language | undefined>>();
const parsers = new Map<string, ParserType>();

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

async function parserFor(language: string): Promise<ParserType | undefined> {
  const grammar = grammarOf(language);
  if (!grammar) return undefined;
  const existing = parsers.get(grammar);
  if (existing) return existing;
  const module = await loadModule();
  let loading = languages.get(grammar);
  if (!loading) {
    loading = module.Language.load(join(wasmDir(), `tree-sitter-${grammar}.wasm`)).catch(() => undefined);
    languages.set(grammar, loading);
  }
  const loaded = await loading;
  if (!loaded) return undefined;
  const parser = new module.Parser();
  parser.setLanguage(loaded);
  parsers.set(grammar, parser);
  return parser;
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
/** Long single lines are minified code: their definitions are not worth a full tree walk. */
const MAX_ONE_LINE_SCAN = 4000;

/** Parses `text` as `language`; undefined when there is no grammar for it or parsing failed. */
export async function parseSyntax(text: string, language: string, lines: readonly string[]): Promise<ParsedSyntax | undefined> {
  const parser = await parserFor(language);
  if (!parser) return undefined;
  const tree = parser.parse(text);
  if (!tree) return undefined;
  try {
    const symbols: SymbolDefinition[] = [];
    const build = (node: Node, container: string[], depth: number): OutlineNode => {
      const definition = definitionOf(node);
      const start = node.startPosition.row;
      const end = Math.max(start, node.endPosition.column === 0 && node.endPosition.row > start ? node.endPosition.row - 1 : node.endPosition.row);
      let inner = container;
      let name: string | undefined;
      if (definition) {
        name = definition.name.text;
        const nameLine = definition.name.startPosition.row;
        const column = lines[nameLine]?.indexOf(name) ?? -1;
        symbols.push({
          name,
          kind: definition.kind,
          startLine: start,
          endLine: end,
          nameLine,
          nameCharacter: Math.max(0, column),
          container: container.join('.'),
        });
        inner = [...container, name];
      }
      const children: OutlineNode[] = [];
      let defines: string[] | undefined;
      // Nodes on one line cannot be split further by a line-based chunker.
      if (end > start && depth < MAX_OUTLINE_DEPTH) {
        for (const child of node.namedChildren) if (child) children.push(build(child, inner, depth + 1));
      } else if (depth < MAX_OUTLINE_DEPTH && node.endIndex - node.startIndex < MAX_ONE_LINE_SCAN) {
        // Still collect definitions on a single line (short functions, one-line classes).
        const before = symbols.length;
        collectDefinitions(node, inner, depth + 1, symbols, lines);
        if (symbols.length > before) defines = symbols.slice(before).filter((s) => s.container === inner.join('.')).map((s) => s.name);
      }
      return { startLine: start, endLine: end, ...(name !== undefined && { name }), children, ...(defines?.length && { defines }) };
    };
    const root = tree.rootNode;
    const outline = root.namedChildren.filter((n): n is Node => n !== null).map((node) => build(node, [], 0));
    return { outline, symbols };
  } finally {
    tree.delete();
  }
}

function collectDefinitions(node: Node, container: string[], depth: number, into: SymbolDefinition[], lines: readonly string[]): void {
  for (const child of node.namedChildren) {
    if (!child) continue;
    const definition = definitionOf(child);
    let inner = container;
    if (definition) {
      const name = definition.name.text;
      const row = child.startPosition.row;
      into.push({ name, kind: definition.kind, startLine: row, endLine: child.endPosition.row, nameLine: definition.name.startPosition.row, nameCharacter: Math.max(0, lines[row]?.indexOf(name) ?? 0), container: container.join('.') });
      inner = [...container, name];
    }
    if (depth < MAX_OUTLINE_DEPTH) collectDefinitions(child, inner, depth + 1, into, lines);
  }
}
