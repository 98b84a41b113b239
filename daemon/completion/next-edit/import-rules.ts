// Next-edit rules that start from an import the user added:
//   - a module imported beside siblings that a list names one by one (`[documentRoutes,
//     workspaceRoutes]`, `[lifecycle, documents]`) joins that list.
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
function importsOf(text: string): Map<string, ImportForm> {
  const out = new Map<string, ImportForm>();
  // A brace list over several lines is read as one statement.
  const joined = text.replace(/\bimport\s+(?:type\s+)?\{[^}]*\}/g, (match) => match.replace(/\s*\n\s*/g, ' '));
  for (const line of joined.split('\n')) {
    if (!/\b(?:import|require)\b/.test(line)) continue;
    for (const { name, form } of importedNames(line)) out.set(name, form);
  }
  return out;
}

/** `[a, b, c]` on one line: identifiers only, two or more. */
const NAME_LIST = /\[\s*([A-Za-z_$][\w$]*(?:\s*,\s*[A-Za-z_$][\w$]*)+)\s*\]/g;

/**
 * An import added (a new import line, or a name added to one): where the file lists, one by
 * one, names imported the same way as the new one (every item of the list imported, two or
 * more, none of them the new name), the new name joins the end of that list. That is how a
 * module registers its parts (route groups, method tables, plugins): the import alone does
 * nothing until the list names it.
 */
export function importListRule(change: LineChange): Rule | undefined {
  const before = new Set(change.oldLines.flatMap((line) => importedNames(line).map((found) => found.name)));
  const added = change.newLines.flatMap(importedNames).filter((found) => !before.has(found.name));
  if (added.length === 0) return undefined;
  return (document, exclude) => {
    const imports = importsOf(document.text);
    const out = [];
    for (const match of document.text.matchAll(NAME_LIST)) {
      const start = match.index;
      const end = start + match[0].length;
      if (overlaps(start, end, exclude)) continue;
      const items = match[1]!.split(',').map((item) => item.trim());
      const form = imports.get(items[0]!);
      if (!form || items.some((item) => imports.get(item) !== form)) continue;
      const joining = added.filter((found) => found.form === form && !items.includes(found.name)).map((found) => found.name);
      if (joining.length === 0) continue;
      // Code, not a list written in a comment or a string.
      const lineStart = document.text.lastIndexOf('\n', start - 1) + 1;
      const head = document.text.slice(lineStart, start);
      if (/^\s*(?:\/\*|\*)/.test(head) || inStringOrComment(head, head.length)) continue;
      // After the last item, before any blank ahead of the `]`.
      const last = start + match[0].slice(0, -1).trimEnd().length;
      out.push(proposal(document, [{ start: last, end: last, newText: joining.map((name) => `, ${name}`).join('') }], `list ${joining.join(', ')} beside ${items[items.length - 1]}`));
    }
    return out;
  };
}
