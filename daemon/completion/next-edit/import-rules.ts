// Next-edit rules that start from an import the user added:
//   - a module imported beside siblings that a list names one by one (`[documentRoutes,
//     workspaceRoutes]`, `[lifecycle, documents]`) joins that list;
//   - a name imported (or re-exported) that the file still defines: the local definition goes;
//   - a constant imported beside a function the file calls once with no arguments: its argument.
// Each returns a Rule (see rule.ts) or undefined when the edit is not its kind. Pure.
import { inStringOrComment, type LineChange, overlaps, proposal, type Rule } from './rule.js';

/** How a name is imported: lists hold names imported the same way (all namespaces, say). */
type ImportForm = 'default' | 'namespace' | 'named' | 'require' | 'python';

/** The value names an import statement binds (type-only imports bind none a list can hold). */
export function importedNames(statement: string): Array<{ name: string; form: ImportForm }> {
  const out: Array<{ name: string; form: ImportForm }> = [];
  const js = /^\s*import\s+(?!type\s)([^'"]*?)\s*from\s*['"]/.exec(statement);
  if (js) {
    let clause = js[1]!;
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) {
      for (const item of braces[1]!.split(',')) {
        const named = /^\s*(?!type\s)([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$/.exec(item);
        if (named) out.push({ name: named[2] ?? named[1]!, form: 'named' });
      }
      clause = clause.replace(braces[0], '');
    }
    const namespace = /\*\s*as\s+([A-Za-z_$][\w$]*)/.exec(clause);
    if (namespace) out.push({ name: namespace[1]!, form: 'namespace' });
    const main = /^\s*([A-Za-z_$][\w$]*)\s*(?:,|$)/.exec(clause);
    if (main) out.push({ name: main[1]!, form: 'default' });
    return out;
  }
  const required = /^\s*(?:(?:const|let|var)\s+|,\s*)?([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"][^'"]+['"]\s*\)\s*[;,]?\s*$/.exec(statement);
  if (required) return [{ name: required[1]!, form: 'require' }];
  const python = /^\s*from\s+[\w.]+\s+import\s+\(?([^)#]*)\)?\s*(?:#.*)?$/.exec(statement) ?? /^\s*import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)\s*$/.exec(statement);
  if (python) {
    for (const item of python[1]!.split(',')) {
      const named = /^\s*([\w.]+)(?:\s+as\s+(\w+))?\s*$/.exec(item);
      if (named && (named[2] || !named[1]!.includes('.'))) out.push({ name: named[2] ?? named[1]!, form: 'python' });
    }
  }
  return out;
}

/** Every name the document's import statements bind, with how (multi-line brace lists joined). */
function importsOf(text: string): Map<string, { form: ImportForm; module: string }> {
  const out = new Map<string, { form: ImportForm; module: string }>();
  // Only the lines that hold an import word are read (a large file has few).
  const seen = new Set<number>();
  for (const match of text.matchAll(/\b(?:import|require)\b/g)) {
    const lineStart = text.lastIndexOf('\n', match.index - 1) + 1;
    if (seen.has(lineStart)) continue;
    seen.add(lineStart);
    let lineEnd = text.indexOf('\n', match.index);
    if (lineEnd < 0) lineEnd = text.length;
    let line = text.slice(lineStart, lineEnd);
    // A brace list over several lines is read as one statement.
    if (/\bimport\s+(?:type\s+)?\{[^}]*$/.test(line)) {
      const close = text.indexOf('}', lineEnd);
      if (close >= 0 && close - lineEnd < 4000) {
        const end = text.indexOf('\n', close);
        line = text.slice(lineStart, end < 0 ? text.length : end).replace(/\s*\n\s*/g, ' ');
      }
    }
    const module = moduleOf(line);
    for (const { name, form } of importedNames(line)) out.set(name, { form, module });
  }
  return out;
}

/** The module an import statement names (`'./x.js'`, `require('x')`, `from .x import`), or ''. */
const moduleOf = (line: string) => /(?:from|require\()\s*['"]([^'"]+)['"]/.exec(line)?.[1] ?? /^\s*from\s+([\w.]+)\s+import\b/.exec(line)?.[1] ?? '';

/** Whether an edit may bring a name in: a few lines, one of them an import (cheap: every edit asks). */
const bringsIn = (change: LineChange) =>
  change.newLines.length <= 12 && change.newLines.some((line) => /\b(?:import|require|from)\b/.test(line));

/** `[a, b, c]` on one line: identifiers only, two or more. */
const NAME_LIST = /\[\s*([A-Za-z_$][\w$]*(?:\s*,\s*[A-Za-z_$][\w$]*)+)\s*\]/g;

/** `(a(x), b(x))` or `[a(x), b(x)]` on one line: the whole list calls, two or more. */
const CALL_LIST = /[([]\s*((?:[A-Za-z_$][\w$]*\([^()\n]*\)\s*,\s*)+[A-Za-z_$][\w$]*\([^()\n]*\))\s*[)\]]/g;

/** A list's items: names, or calls that all pass the same arguments (then `args` says which). */
interface NameList {
  start: number;
  /** Where the closing bracket stands. */
  close: number;
  items: string[];
  args?: string;
}

function* namedLists(text: string, offset: number): Generator<NameList> {
  for (const match of text.matchAll(NAME_LIST)) {
    yield { start: offset + match.index, close: offset + match.index + match[0].length - 1, items: match[1]!.split(',').map((item) => item.trim()) };
  }
  for (const match of text.matchAll(CALL_LIST)) {
    const calls = [...match[1]!.matchAll(/([A-Za-z_$][\w$]*)\(([^()]*)\)/g)];
    const args = calls[0]![2]!.trim();
    if (calls.some((call) => call[2]!.trim() !== args)) continue;
    yield { start: offset + match.index, close: offset + match.index + match[0].length - 1, items: calls.map((call) => call[1]!), args };
  }
}

/**
 * An import added (a new import line, or a name added to one): where the file lists, one by
 * one, names imported the same way as the new one (every item of the list imported, two or
 * more, none of them the new name), the new name joins the end of that list. That is how a
 * module registers its parts (route groups, method tables, plugins): the import alone does
 * nothing until the list names it. A list of calls that all pass the same arguments
 * (`inTurn(listRule(change), movedRule(change))`) gains a call of the new name with them.
 */
export function importListRule(change: LineChange): Rule | undefined {
  if (!bringsIn(change)) return undefined;
  const before = new Set(change.oldLines.flatMap((line) => importedNames(line).map((found) => found.name)));
  const added = change.newLines.flatMap((line) => importedNames(line).map((found) => ({ ...found, module: moduleOf(line) }))).filter((found) => !before.has(found.name));
  if (added.length === 0) return undefined;
  return (document, exclude) => {
    // Read the imports only once a candidate list turns up.
    let imports: Map<string, { form: ImportForm; module: string }> | undefined;
    const out = [];
    for (const { start, close, items, args } of namedLists(document.text, 0)) {
      if (overlaps(start, close + 1, exclude)) continue;
      const known = (imports ??= importsOf(document.text));
      const first = known.get(items[0]!);
      if (!first || items.some((item) => known.get(item)?.form !== first.form)) continue;
      // Calls of the same module's functions (rules, factories): a call of another module's is
      // another kind of thing.
      if (args !== undefined && items.some((item) => known.get(item)!.module !== first.module)) continue;
      const joining = added
        .filter((found) => found.form === first.form && !items.includes(found.name) && (args === undefined || found.module === first.module))
        .map((found) => found.name);
      if (joining.length === 0) continue;
      // Code, not a list written in a comment or a string.
      const lineStart = document.text.lastIndexOf('\n', start - 1) + 1;
      const head = document.text.slice(lineStart, start);
      if (/^\s*(?:\/\*|\*)/.test(head) || inStringOrComment(head, head.length)) continue;
      // After the last item, before any blank ahead of the closing bracket.
      const last = start + document.text.slice(start, close).trimEnd().length;
      const named = joining.map((name) => (args === undefined ? name : `${name}(${args})`));
      out.push(proposal(document, [{ start: last, end: last, newText: named.map((item) => `, ${item}`).join('') }], `list ${named.join(', ')} beside ${items[items.length - 1]}`));
    }
    return out;
  };
}

/** The names an added line brings in from elsewhere: imported, or re-exported (`export { a } from`). */
function broughtIn(line: string): string[] {
  const reexport = /^\s*export\s+\{([^}]*)\}\s*from\s*['"]/.exec(line);
  if (reexport) return reexport[1]!.split(',').map((item) => /([A-Za-z_$][\w$]*)\s*$/.exec(item.trim())?.[1]).filter((name): name is string => !!name);
  return importedNames(line).map((found) => found.name);
}

/** A top-level definition of the name that ends the match: a function, class or variable (not an import). */
const DEFINITION_HEAD = /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?\s+|class\s+|(?:const|let|var)\s+|def\s+)$/;

/** Where the file defines `name` at the top level (its line's start), or -1. */
function definitionOf(text: string, name: string): number {
  // Found through the name's occurrences: a scan of the whole text per line would cost more.
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + name.length)) {
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    // At the top level, after a keyword or two (most occurrences are uses, deeper in).
    if (at - lineStart > 40 || text.charCodeAt(lineStart) <= 32 || !DEFINITION_HEAD.test(text.slice(lineStart, at))) continue;
    let lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) lineEnd = text.length;
    const rest = text.slice(at + name.length, lineEnd);
    const head = text.slice(lineStart, at);
    const fits = /\b(?:function\*?|def)\s+$/.test(head) ? /^\s*[(<]/.test(rest) : /\bclass\s+$/.test(head) ? /^(?![\w$])/.test(rest) : /^\s*(?::[^=]+)?=(?!=)(?!\s*require\()/.test(rest);
    if (fits) return lineStart;
  }
  return -1;
}

/** The offset just past the line where a definition starting at `start` ends (its braces or indented body). */
function definitionEnd(text: string, start: number): number {
  const lineEnd = (at: number) => {
    const end = text.indexOf('\n', at);
    return end < 0 ? text.length : end + 1;
  };
  const first = text.slice(start, lineEnd(start));
  if (/^def\s/.test(first)) {
    // Python: the lines indented below it (blank lines inside included).
    let at = lineEnd(start);
    let end = at;
    while (at < text.length) {
      const next = lineEnd(at);
      const line = text.slice(at, next);
      if (line.trim() && !/^\s/.test(line)) break;
      if (line.trim()) end = next;
      at = next;
    }
    return end;
  }
  if (/\{\s*$/.test(first)) {
    // A top-level block ends at the first line that closes a brace at the top level again
    // (indentation says where, whatever strings and regular expressions hold inside).
    for (let at = lineEnd(start); at < text.length; at = lineEnd(at)) {
      if (text[at] === '}') return lineEnd(at);
      if (text[at] !== undefined && text[at] !== '\n' && text[at] !== '\r' && !/\s/.test(text[at]!)) break;
    }
  }
  let depth = 0;
  let opened = false;
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '{' || char === '(' || char === '[') {
      depth++;
      opened = true;
    } else if (char === '}' || char === ')' || char === ']') depth--;
    // The statement ends at the line where its brackets close (or at its first line, if none open).
    if (char === '\n' && depth <= 0 && (opened || i >= start)) return i + 1;
  }
  return text.length;
}

/**
 * A name imported or re-exported from elsewhere while the file still defines it at the top level
 * (`export { isLoopbackUrl } from './loopback.js'` above `export function isLoopbackUrl(…)`): the
 * definition moved out, so the local one, with the comment right above it, is deleted.
 */
export function movedDefinitionRule(change: LineChange): Rule | undefined {
  if (!bringsIn(change)) return undefined;
  const before = new Set(change.oldLines.flatMap(broughtIn));
  const names = change.newLines.flatMap(broughtIn).filter((name) => !before.has(name) && name.length >= 3);
  if (names.length === 0) return undefined;
  return (document, exclude) => {
    const text = document.text;
    const out = [];
    for (const name of names) {
      const found = definitionOf(text, name);
      if (found < 0 || overlaps(found, found, exclude)) continue;
      let start = found;
      // The comment right above it goes with it.
      for (;;) {
        const previousStart = text.lastIndexOf('\n', start - 2) + 1;
        if (start === 0 || !/^\s*(?:\/\/|\/\*|\*|#)/.test(text.slice(previousStart, start))) break;
        start = previousStart;
      }
      let end = definitionEnd(text, found);
      // One blank line after it too, so no double blank is left behind.
      if (text[end] === '\n' && (start === 0 || text[start - 2] === '\n' || text[start - 1] === '\n')) end++;
      out.push(proposal(document, [{ start, end, newText: '' }], `remove ${name}, now imported`));
    }
    return out;
  };
}

/** `import { a, B } from 'module'`: the names a line imports by name, and from where. */
function namedFrom(line: string): { names: string[]; module: string } | undefined {
  const match = /^\s*import\s+(?!type\s)\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/.exec(line);
  if (!match) return undefined;
  const names = match[1]!.split(',').map((item) => /^\s*(?!type\s)([A-Za-z_$][\w$]*)\s*$/.exec(item)?.[1]).filter((name): name is string => !!name);
  return { names, module: match[2]! };
}

/**
 * A constant (`PARSE_THREAD_NICE`) added to an import beside a function of the same module that
 * the file calls once, with no arguments (`lowerThisThreadPriority()`): the constant is that
 * call's argument; a module exports such a pair for the call to take it.
 */
export function constantArgumentRule(change: LineChange): Rule | undefined {
  if (change.oldLines.length !== 1 || change.newLines.length !== 1) return undefined;
  const [before, after] = [namedFrom(change.oldLines[0]!), namedFrom(change.newLines[0]!)];
  if (!before || !after || before.module !== after.module) return undefined;
  const added = after.names.filter((name) => !before.names.includes(name));
  if (added.length !== 1 || !/^[A-Z][A-Z0-9_]+$/.test(added[0]!)) return undefined;
  const constant = added[0]!;
  const functions = before.names.filter((name) => /^[a-z]/.test(name));
  return (document, exclude) => {
    const calls = functions.flatMap((name) => {
      const out: number[] = [];
      const pattern = new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}\\(\\s*\\)`, 'g');
      for (const match of document.text.matchAll(pattern)) if (!overlaps(match.index, match.index, exclude)) out.push(match.index + match[0].indexOf('(') + 1);
      return out;
    });
    if (calls.length !== 1) return [];
    return [proposal(document, [{ start: calls[0]!, end: calls[0]!, newText: constant }], `pass ${constant}`)];
  };
}
