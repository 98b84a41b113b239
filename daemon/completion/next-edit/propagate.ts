// The builtin next-edit engine: propagate the user's last edit. It recognises:
//   - edits judged on the line as text (line-rules.ts): trailing blanks stripped, the blank at a
//     comment marker changed, a trailing comment deleted, a line with identical copies changed;
//   - a token substitution (a rename, a name replaced by a path to it, or a changed token with
//     its neighbours as context);
//   - a changed argument list (an argument added, removed or replaced in `name(...)`, a keyword
//     argument added to a call whose siblings take the same arguments, a definition's parameter);
//   - removed lines (equal to lines that recur elsewhere),
// finds the analogous sites (this file first, then other open files) and proposes them one at a
// time, nearest to the cursor first. Pure: documents and the edit in, proposals out.
import { diffArrays } from 'diff';
import { isIdentifier, isWordChar, leadingWhitespace, type TokenSpan, tokenSpans } from '../text.js';
import { commentRemovalRule, commentSpacingRule, namedConstantRule, sameLineRule, stringLiteralRule, trailingWhitespaceRule } from './line-rules.js';
import { fieldMirrorRule, spreadSiblingRule } from './field-rules.js';
import { constantArgumentRule, importListRule, movedDefinitionRule } from './import-rules.js';
import { blockEnd, inStringOrComment, type LineChange, overlaps, proposal, type Rule } from './rule.js';

export interface EditDocument {
  readonly uri: string;
  readonly languageId: string;
  readonly version: number;
  readonly text: string;
}

/** The user's last edit, in offsets of the document's current text. */
export interface AppliedEdit {
  uri: string;
  /** Where the inserted text now starts. */
  offset: number;
  deletedText: string;
  insertedText: string;
}

export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

export interface EditProposal {
  uri: string;
  version: number;
  edits: OffsetEdit[];
  reason: string;
  /** Offset of the first edit, for ordering and jumps. */
  anchor: number;
}

export interface PropagateQuery {
  edit: AppliedEdit;
  /** The document the cursor is in. */
  document: EditDocument;
  cursorOffset: number;
  /** Other open documents, searched after the current one. */
  others: readonly EditDocument[];
  /** Proposals the user rejected (see proposalKey), not offered again. */
  rejected?: ReadonlySet<string>;
  /** Most proposals returned. */
  limit?: number;
}

/** Identifies a proposal for rejection memory. */
export const proposalKey = (proposal: Pick<EditProposal, 'uri' | 'edits'>) =>
  `${proposal.uri}|${proposal.edits.map((e) => `${e.start}:${e.end}:${e.newText}`).join('|')}`;

/** Every analogous site, best first. */
export function propagateEdit(query: PropagateQuery): EditProposal[] {
  // The edit is read in its own document, which may be another open one than the cursor's.
  const editDocument = query.edit.uri === query.document.uri ? query.document : query.others.find((d) => d.uri === query.edit.uri);
  if (!editDocument) return [];
  const rule = ruleFor(query.edit, editDocument.text);
  if (!rule) return [];
  const userSpan = { start: query.edit.offset, end: query.edit.offset + query.edit.insertedText.length };
  const here = rule(query.document, query.edit.uri === query.document.uri ? userSpan : undefined);
  here.sort((a, b) => Math.abs(a.anchor - query.cursorOffset) - Math.abs(b.anchor - query.cursorOffset));
  const elsewhere: EditProposal[] = [];
  for (const other of query.others) {
    if (other.uri === query.document.uri) continue;
    const found = rule(other, other === editDocument ? userSpan : undefined);
    found.sort((a, b) => a.anchor - b.anchor);
    elsewhere.push(...found);
  }
  const rejected = query.rejected ?? new Set<string>();
  return [...here, ...elsewhere].filter((proposal) => !rejected.has(proposalKey(proposal))).slice(0, query.limit ?? 50);
}

/** Chooses the rule that describes the edit, or none when it is not a pattern worth propagating. */
export function ruleFor(edit: AppliedEdit, text: string): Rule | undefined {
  const { offset, deletedText, insertedText } = edit;
  if (text.slice(offset, offset + insertedText.length) !== insertedText) return undefined;
  const { lineStart, oldLines, newLines } = editedLines(edit, text);

  const change: LineChange = { oldLines: oldLines.split('\n'), newLines: newLines.split('\n'), offsetInLine: offset - lineStart };
  // Edits judged by their lines as text: whitespace, comments, identical copies.
  const textual = trailingWhitespaceRule(change) ?? commentSpacingRule(change) ?? commentRemovalRule(change, deletedText, insertedText);
  if (textual) return textual;
  // An import added: the list that names its siblings names it too, a local definition of the
  // name goes; otherwise the rules below.
  const imported = inTurn(importListRule(change), movedDefinitionRule(change), constantArgumentRule(change));

  const lines = newLines.includes('\n') || oldLines.includes('\n') ? changedLines(oldLines.split('\n'), newLines.split('\n')) : undefined;
  if (insertedText === '' && deletedText.includes('\n') && lines && lines.added.length === 0) {
    // Whole lines, as the line diff sees them: the recorded deletion may start mid-line
    // (`self = this;\n  var ` for the line `  var self = this;`).
    const rule = removedLinesRule(lines.removed);
    if (rule) return rule;
  }
  if (lines) {
    const multi = multiLineRename(oldLines.split('\n'), newLines.split('\n'), lines);
    return inTurn(imported, fieldMirrorRule(lines.removed, lines.added, lineStart), spreadSiblingRule(lines.removed, lines.added, lineStart), multi, mentionedRenameRule(lines.removed, lines.added), extractedVariableRule(lines.added, lineStart), wrapperRule(lines.removed, lines.added), namedConstantRule(lines.added));
  }
  // An identical copy of the line is the strongest sign of an analogous site, then an identical
  // copy of the one string literal the edit changed; then the token rules. Each runs where the
  // ones before it find no site.
  return inTurn(imported, sameLineRule(change), stringLiteralRule(change), parameterRenameRule(oldLines, newLines), substitutionRule(oldLines, newLines), swappedNameRule(oldLines, newLines), wrappedValueRule(oldLines, newLines));
}

/** The whole lines an edit touched in `text` (the document after it), before and after it. */
function editedLines(edit: AppliedEdit, text: string): { lineStart: number; oldLines: string; newLines: string } {
  const { offset, deletedText, insertedText } = edit;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset + insertedText.length);
  if (lineEnd < 0) lineEnd = text.length;
  const newLines = text.slice(lineStart, lineEnd);
  return { lineStart, newLines, oldLines: text.slice(lineStart, offset) + deletedText + text.slice(offset + insertedText.length, lineEnd) };
}

/**
 * What to look up in the workspace index for sites of an edit in files that are not open: the
 * name it renamed (one identifier for another on its lines, three characters or more, no keyword
 * or literal), or undefined. Only a rename reaches across files; a deleted line, a changed
 * argument or an edited copy of a line is a pattern of this file, and a name it mentions in
 * another file says nothing (on psf/requests such jumps landed on a later hunk 2 times in 44).
 * A word renamed in a comment or a string is prose (`prose`): another file's prose is its own
 * unless it holds the very line (`line`, trimmed) the edit changed.
 */
export function indexedRename(edit: AppliedEdit, text: string): { name: string; prose: boolean; line: string } | undefined {
  if (text.slice(edit.offset, edit.offset + edit.insertedText.length) !== edit.insertedText) return undefined;
  const { oldLines, newLines } = editedLines(edit, text);
  const rename = renameBetween(oldLines, newLines);
  if (!rename || rename.from.length < 3 || NOT_RENAMEABLE.has(rename.from) || NOT_RENAMEABLE.has(rename.to) || LITERALS.has(rename.from) || LITERALS.has(rename.to)) return undefined;
  const at = tokenSpans(oldLines).find((token) => token.text === rename.from)!.start;
  const lineStart = oldLines.lastIndexOf('\n', at - 1) + 1;
  let lineEnd = oldLines.indexOf('\n', at);
  if (lineEnd < 0) lineEnd = oldLines.length;
  const line = oldLines.slice(lineStart, lineEnd);
  return { name: rename.from, prose: /^\s*(?:\*|\/\*)/.test(line) || inStringOrComment(line, at - lineStart), line: line.trim() };
}

/** Where the first rule finds no site in a document, the second one's sites there. */
const orElse = (first: Rule, second: Rule): Rule => (document, exclude) => {
  const found = first(document, exclude);
  return found.length > 0 ? found : second(document, exclude);
};

/** The rules that apply, each asked where the ones before it found no site; none if none apply. */
const inTurn = (...rules: Array<Rule | undefined>): Rule | undefined =>
  rules.filter((rule): rule is Rule => rule !== undefined).reduce<Rule | undefined>((chain, rule) => (chain ? orElse(chain, rule) : rule), undefined);

/** The one identifier renamed throughout a change (every differing token the same from -> to). */
export function renameBetween(oldText: string, newText: string): { from: string; to: string } | undefined {
  const a = tokenSpans(oldText).map((t) => t.text);
  const b = tokenSpans(newText).map((t) => t.text);
  if (a.length !== b.length) return undefined;
  let found: { from: string; to: string } | undefined;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!isIdentifier(a[i]!) || !isIdentifier(b[i]!)) return undefined;
    if (found && (found.from !== a[i] || found.to !== b[i])) return undefined;
    found = { from: a[i]!, to: b[i]! };
  }
  return found && found.from.length >= 2 ? found : undefined;
}

/** Keywords: changing one (`let` to `const`, `public` to `private`) is a local decision, not a rename. */
const NOT_RENAMEABLE = new Set(['self', 'this', 'let', 'const', 'var', 'public', 'private', 'protected', 'static', 'async', 'await', 'return', 'if', 'else', 'and', 'or', 'not', 'is', 'in', 'def', 'function', 'class']);

/** Literal values: `False` becoming `True` is a changed value at one site, not a renamed name. */
const LITERALS = new Set(['true', 'false', 'True', 'False', 'None', 'null', 'nil', 'undefined', 'NaN', 'Infinity']);

function renameRule(from: string, to: string): Rule | undefined {
  if (NOT_RENAMEABLE.has(from) || NOT_RENAMEABLE.has(to) || LITERALS.has(from) || LITERALS.has(to)) return undefined;
  return (document, exclude) => {
    return wholeWordOccurrences(document.text, from)
      .filter((start) => !overlaps(start, start + from.length, exclude))
      .map((start) => proposal(document, [{ start, end: start + from.length, newText: to }], `rename ${from} → ${to}`));
  };
}

/** The number's other occurrences as a whole number (not inside `12012` or `2012.5`). */
function numberRule(from: string, to: string): Rule {
  return (document, exclude) =>
    tokenBoundedOccurrences(document.text, from)
      .filter((start) => {
        const [before, after] = [document.text[start - 1] ?? '', document.text.slice(start + from.length, start + from.length + 2)];
        return !overlaps(start, start + from.length, exclude) && !/[\d.]/.test(before) && !/^(\d|\.\d)/.test(after);
      })
      .map((start) => proposal(document, [{ start, end: start + from.length, newText: to }], `renumber ${from} → ${to}`));
}

/** Tokens that spell `a.b` or `a.b.c`: identifiers joined by dots. */
const isPathTo = (tokens: string[]) =>
  tokens.length >= 3 && tokens.length % 2 === 1 && tokens.every((token, i) => (i % 2 === 0 ? isIdentifier(token) : token === '.'));

/**
 * The name's other uses, not attributes of something else (`.name`), become the path: in code
 * when the user's edit was in code, in strings and comments when it was in prose.
 */
function pathRule(from: string, to: string, inProse: boolean): Rule | undefined {
  if (from.length < 2 || NOT_RENAMEABLE.has(from) || LITERALS.has(from)) return undefined;
  return (document, exclude) =>
    wholeWordOccurrences(document.text, from)
      .filter((start) => !overlaps(start, start + from.length, exclude) && !/\.\s*$/.test(document.text.slice(Math.max(0, start - 8), start)))
      .filter((start) => {
        const lineStart = document.text.lastIndexOf('\n', start - 1) + 1;
        return inStringOrComment(document.text.slice(lineStart, start), start - lineStart) === inProse;
      })
      .map((start) => proposal(document, [{ start, end: start + from.length, newText: to }], `qualify ${from} → ${to}`));
}

interface ChangedLines {
  removed: string[];
  added: string[];
}

/** The lines a multi-line edit removed and added (a line diff). */
function changedLines(oldLines: string[], newLines: string[]): ChangedLines {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffArrays(oldLines, newLines)) {
    if (part.removed) removed.push(...part.value);
    else if (part.added) added.push(...part.value);
  }
  return { removed, added };
}

/**
 * Several lines changed: one rename throughout (a hunk that renames on adjacent lines), or one
 * changed line among added or removed ones.
 */
function multiLineRename(oldLines: string[], newLines: string[], { removed, added }: ChangedLines): Rule | undefined {
  const rename = renameBetween(oldLines.join('\n'), newLines.join('\n'));
  if (rename) return renameRule(rename.from, rename.to);
  // One line changed, others only added or removed around it: the changed line is the pattern.
  const changed = removed.length === 1 ? added.filter((line) => similarLine(removed[0]!, line)) : [];
  // Only the structured rules: a generic substitution amid other changes is mostly noise.
  const structured = changed.length === 1 ? substitutionRule(removed[0]!, changed[0]!, false) : undefined;
  if (structured) return structured;
  const vanished = vanishedName(oldLines.join('\n'), newLines.join('\n'));
  if (vanished) return renameRule(vanished.from, vanished.to);
  const declared = renamedDeclaration(removed, added, oldLines.join('\n'), newLines.join('\n'));
  const renamed = declared && renameRule(declared.from, declared.to);
  if (!declared || !renamed) return undefined;
  // A new name already used elsewhere in the file (`x.AsyncLocalStorage`) is a different thing
  // taking the old one's place, not a rename.
  return (document, exclude) => (wholeWordOccurrences(document.text, declared.to).every((at) => overlaps(at, at, exclude)) ? renamed(document, exclude) : []);
}

/** `const name = expression;`, `name = expression` (Python), `let name: T = expression;`, `type Name = T;`. */
const ASSIGNMENT = /^\s*(?:export\s+)?(?:(?:const|let|var|final|auto|type)\s+)?([A-Za-z_$][\w$]*)\s*(?::\s*[^=]+)?=(?!=)\s*(.+?)\s*;?\s*$/;

/**
 * A variable introduced for an expression the code after it spells out again (`var next =
 * this.req.next;`): the expression's occurrences later in the same block become the variable.
 * The block ends at the first line indented less than the declaration; occurrences that are
 * themselves assigned (`x = expression`) or in prose are left alone.
 */
function extractedVariableRule(added: string[], editStart: number): Rule | undefined {
  const found = added.map((line) => [line, ASSIGNMENT.exec(line)] as const).filter(([, match]) => match !== null);
  if (found.length !== 1) return undefined;
  const [line, match] = found[0]!;
  const [, name, expression] = match!;
  // Worth a name: a call, member access, index or type of some length, not a literal.
  if (expression!.length < 10 || !/[(.[<{]/.test(expression!) || /^['"`\d]/.test(expression!) || /[,;]$/.test(expression!)) return undefined;
  const indent = line.length - line.trimStart().length;
  return (document, exclude) => {
    if (!exclude) return [];
    const text = document.text;
    // The declaration's block: from the edit to the first line indented less than it.
    const end = blockEnd(text, Math.max(editStart, exclude.end - 1), indent);
    return tokenBoundedOccurrences(text, expression!)
      .filter((start) => {
        if (start <= exclude.end || start + expression!.length > end) return false;
        const lineStart = text.lastIndexOf('\n', start - 1) + 1;
        const before = text.slice(lineStart, start);
        return !/=\s*$/.test(before) && !inStringOrComment(before, before.length);
      })
      .map((start) => proposal(document, [{ start, end: start + expression!.length, newText: name! }], `use ${name} for ${expression!.slice(0, 40)}`));
  };
}

/** `target = source` with a plain name as the source: `x = y`, `self.total = count`, `local a = b`. */
const PLAIN_ASSIGNMENT = /^(\s*)(?:(?:const|let|var|local)\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*=(?!=)\s*(.+?)\s*;?\s*$/;

/**
 * A value wrapped where it is stored (`statusline.index = result` to `statusline.index =
 * statusline.summarize(result)`): below, in the same block, what still reads the raw value
 * (`result.state`) reads the stored one instead (`statusline.index.state`).
 */
function wrappedValueRule(oldLine: string, newLine: string): Rule | undefined {
  const [before, after] = [PLAIN_ASSIGNMENT.exec(oldLine), PLAIN_ASSIGNMENT.exec(newLine)];
  if (!before || !after || before[2] !== after[2]) return undefined;
  const [indent, target, source] = [before[1]!.length, before[2]!, before[3]!];
  const wrapped = after[3]!;
  if (!isIdentifier(source) || source.length < 2 || NOT_RENAMEABLE.has(source) || LITERALS.has(source) || wrapped === source) return undefined;
  if (!wholeWordOccurrences(wrapped, source).length || !/[(]/.test(wrapped)) return undefined;
  return (document, exclude) => {
    if (!exclude) return [];
    const text = document.text;
    const end = blockEnd(text, exclude.end - 1, indent);
    return wholeWordOccurrences(text.slice(0, end), source)
      .filter((start) => {
        if (start <= exclude.end) return false;
        const lineStart = text.lastIndexOf('\n', start - 1) + 1;
        const head = text.slice(lineStart, start);
        const rest = text.slice(start + source.length, start + source.length + 3);
        return !/\.\s*$/.test(head) && !/^\s*=(?!=)/.test(rest) && !inStringOrComment(head, head.length);
      })
      .map((start) => proposal(document, [{ start, end: start + source.length, newText: target }], `read ${target} for ${source}`));
  };
}

/** The name a line declares: a field, variable, function or class, after its modifiers. */
const DECLARED = /^\s*(?:(?:export|default|public|private|protected|static|readonly|async|declare|abstract|const|let|var|def|function\*?|class|interface|type|enum|fn|func)\s+)*([A-Za-z_$][\w$]*)\s*(?:\??\s*:|=(?!=)|\(|<|\{|$)/;
const COMMENT_LINE = /^\s*(?:\/\/|#|\/\*|\*)/;

/**
 * Declarations rewritten with a new name (`complete: boolean` to `pending: 0 | 1 | 2`, their doc
 * comments rewritten too): paired in order once comment lines are set aside, the one pair whose
 * declared name changed, the old name gone from the new text and the new one not in the old.
 */
function renamedDeclaration(removed: string[], added: string[], oldText: string, newText: string): { from: string; to: string } | undefined {
  const code = (lines: string[]) => lines.filter((line) => line.trim() && !COMMENT_LINE.test(line));
  const [before, after] = [code(removed), code(added)];
  if (before.length !== after.length) return before.length <= 5 && after.length <= 5 ? sameInitializer(before, after, oldText, newText) : undefined;
  if (before.length === 0 || before.length !== after.length || before.length > 3) return undefined;
  let found: { from: string; to: string } | undefined;
  for (let i = 0; i < before.length; i++) {
    const [from, to] = [DECLARED.exec(before[i]!)?.[1], DECLARED.exec(after[i]!)?.[1]];
    if (!from || !to || from === to) continue;
    if (found || from.length < 3 || NOT_RENAMEABLE.has(from) || NOT_RENAMEABLE.has(to)) return undefined;
    const newWords = new Set(tokenSpans(newText).map((t) => t.text));
    const oldWords = new Set(tokenSpans(oldText).map((t) => t.text));
    if (newWords.has(from) || oldWords.has(to)) return undefined;
    found = { from, to };
  }
  return found;
}

/** `const name = initializer`: a variable's name and what it is set to. */
const INITIALIZED = /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=(?!=)\s*(.+?);?\s*$/;

/**
 * Lines removed and added in different numbers, among them one variable declared again under a
 * new name with the very same initializer (`const controller = session.beginRequest(id);` to
 * `const inflight = session.beginRequest(id);`): that variable was renamed.
 */
function sameInitializer(before: string[], after: string[], oldText: string, newText: string): { from: string; to: string } | undefined {
  const initializers = new Map<string, string>();
  for (const line of before) {
    const match = INITIALIZED.exec(line);
    if (match) initializers.set(match[2]!, match[1]!);
  }
  const pairs = after
    .map((line) => INITIALIZED.exec(line))
    .filter((match) => match !== null && initializers.has(match[2]!) && initializers.get(match[2]!) !== match[1])
    .map((match) => ({ from: initializers.get(match![2]!)!, to: match![1]! }));
  if (pairs.length !== 1) return undefined;
  const { from, to } = pairs[0]!;
  if (from.length < 3 || NOT_RENAMEABLE.has(from) || NOT_RENAMEABLE.has(to)) return undefined;
  if (tokenSpans(newText).some((t) => t.text === from) || tokenSpans(oldText).some((t) => t.text === to)) return undefined;
  return { from, to };
}

/**
 * A name replaced wherever a larger change touched it: among the one-for-one identifier swaps
 * of a token diff, the one whose old name is gone from the new text and whose new name was not
 * in the old text. Its remaining occurrences elsewhere are the sites still to rename.
 */
export function vanishedName(oldText: string, newText: string): { from: string; to: string } | undefined {
  const found = swappedName(oldText, newText);
  return found && { from: found.from, to: found.to };
}

/** vanishedName, with where the swapped name first stood in the old text. */
function swappedName(oldText: string, newText: string): { from: string; to: string; at: number } | undefined {
  const spans = tokenSpans(oldText);
  const a = spans.map((t) => t.text);
  const b = tokenSpans(newText).map((t) => t.text);
  const oldWords = new Set(a);
  const newWords = new Set(b);
  const swaps = new Map<string, string>();
  // Where (in the old text) the swapped name first stood.
  let at = -1;
  // A rewrite that happens to swap a name is not a rename: most tokens (60%) must survive the
  // change, and each swap must sit between unchanged tokens (two on each side). Keeping 60% bounds
  // the edit length, so the diff can give up early on a large rewrite (where it costs most).
  const maxEditLength = Math.floor(a.length + b.length - 1.2 * Math.max(a.length, b.length));
  if (maxEditLength < 0 || sharedTokens(a, b) < 0.6 * Math.max(a.length, b.length)) return undefined;
  const parts = diffArrays(a, b, { maxEditLength });
  if (!parts) return undefined;
  const kept = parts.reduce((sum, part) => sum + (part.added || part.removed ? 0 : part.value.length), 0);
  if (kept < 0.6 * Math.max(a.length, b.length)) return undefined;
  let oldIndex = parts[0] && !parts[0].added ? parts[0].value.length : 0;
  for (let i = 1; i + 2 < parts.length; oldIndex += parts[i]!.added ? 0 : parts[i]!.value.length, i++) {
    const [removed, added] = [parts[i]!, parts[i + 1]!];
    if (!removed.removed || !added.added || removed.value.length !== 1 || added.value.length !== 1) continue;
    const [before, after] = [parts[i - 1]!, parts[i + 2]!];
    if (before.added || before.removed || after.added || after.removed || before.value.length < 2 || after.value.length < 2) continue;
    const [from, to] = [removed.value[0]!, added.value[0]!];
    if (!isIdentifier(from) || !isIdentifier(to) || from.length < 3 || newWords.has(from) || oldWords.has(to)) continue;
    if (swaps.has(from) && swaps.get(from) !== to) return undefined;
    if (!swaps.has(from) && at < 0) at = spans[oldIndex]!.start;
    swaps.set(from, to);
  }
  if (swaps.size !== 1) return undefined;
  const [from, to] = [...swaps][0]!;
  return { from, to, at };
}

/**
 * A name swapped in code on a line that changed in other ways too (`{ a, stopDaemon }` to
 * `{ b, a, stopFixtureEditor }`): its remaining uses are renamed. A swap inside a string or a
 * comment (`'http://'` to `'https://'`, `require('url')` to `require('connect')`, `{mixed}` to
 * `{array}` in a doc comment) is a changed value or text at one place, not a rename.
 */
function swappedNameRule(oldLine: string, newLine: string): Rule | undefined {
  // Asked of every one-line edit: a line without a name gone from it needs no diff.
  const oldWords = oldLine.match(/[A-Za-z_$][\w$]{2,}/g) ?? [];
  const newWords = newLine.match(/[A-Za-z_$][\w$]{2,}/g) ?? [];
  const [inOld, inNew] = [new Set(oldWords), new Set(newWords)];
  if (!oldWords.some((word) => !inNew.has(word)) || !newWords.some((word) => !inOld.has(word))) return undefined;
  const swapped = swappedName(oldLine, newLine);
  // A block comment's line (`/**`, ` * @param`) is prose throughout.
  const prose = swapped && (/^\s*(?:\/\*|\*)/.test(oldLine) || inStringOrComment(oldLine, swapped.at));
  return swapped && !prose ? renameRule(swapped.from, swapped.to) : undefined;
}

/** A name as code spells it: camelCase, snake_case, or with digits (`syntaxPass`, `max_size`), not an English word. */
const CODE_SHAPED = /^(?:[a-z]+[A-Z][\w$]*|[A-Za-z]+_[\w$]*|[A-Z][a-z]+[A-Z][\w$]*)$/;

/**
 * Comments rewritten to name something else in code (`(syntaxPass)` to `(secondPass)`): the
 * code still spelling the old name is renamed. Only names shaped like code (camelCase,
 * snake_case), never words of the prose around them, and only a single such swap.
 */
function mentionedRenameRule(removed: readonly string[], added: readonly string[]): Rule | undefined {
  const comment = (line: string) => !line.trim() || COMMENT_LINE.test(line);
  if (removed.length === 0 || !removed.every(comment) || !added.every(comment)) return undefined;
  const a = tokenSpans(removed.join('\n')).map((t) => t.text);
  const b = tokenSpans(added.join('\n')).map((t) => t.text);
  const [oldWords, newWords] = [new Set(a), new Set(b)];
  const swaps = new Map<string, string>();
  // A comment rewritten through and through names nothing in particular (and costs the most to diff).
  const parts = diffArrays(a, b, { maxEditLength: 60 });
  if (!parts) return undefined;
  for (let i = 0; i + 1 < parts.length; i++) {
    const [gone, come] = [parts[i]!, parts[i + 1]!];
    if (!gone.removed || !come.added) continue;
    const from = gone.value.filter((t) => CODE_SHAPED.test(t) && !newWords.has(t));
    const to = come.value.filter((t) => CODE_SHAPED.test(t) && !oldWords.has(t));
    if (from.length === 1 && to.length === 1) swaps.set(from[0]!, to[0]!);
  }
  if (swaps.size !== 1) return undefined;
  const [from, to] = [...swaps][0]!;
  const rename = renameRule(from, to);
  // Only the code's uses: the prose elsewhere may still mean the old thing.
  return rename && ((document, exclude) => rename(document, exclude).filter((p) => {
    const start = p.edits[0]!.start;
    const lineStart = document.text.lastIndexOf('\n', start - 1) + 1;
    const head = document.text.slice(lineStart, start);
    return !COMMENT_LINE.test(head) && !inStringOrComment(head, head.length);
  }));
}

/** How many tokens two sequences share, counted as multisets: a bound on what a diff keeps. */
function sharedTokens(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const token of a) counts.set(token, (counts.get(token) ?? 0) + 1);
  let shared = 0;
  for (const token of b) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(token, left - 1);
    }
  }
  return shared;
}

/** Two versions of one line: most of their tokens shared. */
function similarLine(a: string, b: string): boolean {
  const x = tokenSpans(a).map((t) => t.text);
  const y = new Set(tokenSpans(b).map((t) => t.text));
  return x.length > 0 && x.filter((token) => y.has(token)).length / x.length >= 0.6;
}

/** Rules for a change within one line. */
function substitutionRule(oldLine: string, newLine: string, allowGeneric = true): Rule | undefined {
  const a = tokenSpans(oldLine);
  const b = tokenSpans(newLine);
  let head = 0;
  while (head < a.length && head < b.length && a[head]!.text === b[head]!.text) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail]!.text === b[b.length - 1 - tail]!.text) tail++;
  const removed = a.slice(head, a.length - tail).map((t) => t.text);
  const added = b.slice(head, b.length - tail).map((t) => t.text);
  if (removed.length === 0 && added.length === 0) return undefined;

  // A rename: one identifier became another (once, or everywhere on the line).
  if (removed.length === 1 && added.length === 1 && isIdentifier(removed[0]!) && isIdentifier(added[0]!)) {
    return removed[0]!.length < 2 ? undefined : renameRule(removed[0]!, added[0]!);
  }
  const rename = renameBetween(oldLine, newLine);
  if (rename) return renameRule(rename.from, rename.to);
  // A distinctive number changed (a year, a version: four characters or more; shorter values
  // like `100` or `500` change one at a time): its other occurrences, prose included.
  if (removed.length === 1 && added.length === 1 && /^\d[\d.]{3,}$/.test(removed[0]!) && /^\d[\d.]*$/.test(added[0]!)) {
    return numberRule(removed[0]!, added[0]!);
  }
  // A name replaced by a path to it (`sock` to `self.server_sock`), or qualified (`x` to
  // `state.x`: only tokens added, the name after them).
  const pathLength = removed.length === 1 ? added.length : removed.length === 0 && isIdentifier(a[head]?.text ?? '') ? added.length + 1 : 0;
  const path = b.slice(head, head + pathLength);
  if (pathLength > 0 && isPathTo(path.map((t) => t.text)) && !/\.\s*$/.test(oldLine.slice(0, a[head]!.start))) {
    return pathRule(a[head]!.text, newLine.slice(path[0]!.start, path[path.length - 1]!.end), inStringOrComment(oldLine, a[head]!.start));
  }

  const changeAt = a[head]?.start ?? oldLine.length;
  // Parameters of an anonymous function (or a condition) have no other sites to propagate to.
  if (KEYWORDS.has(/([A-Za-z_$][\w$]*)\s*\($/.exec(oldLine.slice(0, openParenBefore(oldLine, changeAt) + 1))?.[1] ?? '')) return undefined;
  // A definition's parameters are passed at its calls; any other call's arguments recur as is.
  const args = signatureChange(oldLine, newLine, changeAt) ?? argumentChange(oldLine, newLine, changeAt);
  if (!allowGeneric) return args;
  const generic = genericSubstitution(oldLine, newLine, a, b, head, tail, removed);
  // Where the structured rule finds no site (no call passes the parameter by keyword, say), the
  // plain substitution may (sibling definitions dropping the same parameter).
  return inTurn(args, generic);
}

/** A substitution with one token of context on each side, in code. */
function genericSubstitution(oldLine: string, newLine: string, a: TokenSpan[], b: TokenSpan[], head: number, tail: number, removed: string[]): Rule | undefined {
  // Tokens only added amid unchanged ones (`a)` to `a, b)`, `x:` to `x and y:`): a one-off
  // refinement of this line (a widened import, a stricter condition), not a recurring pattern.
  // (Tokens only removed do recur: a dropped argument or prefix is dropped elsewhere too.)
  if (removed.length === 0) return undefined;

  // A substitution with one token of context on each side.
  const oldStart = a[Math.max(0, head - 1)]?.start ?? 0;
  const oldEnd = a[Math.min(a.length - 1, a.length - tail)]?.end ?? oldLine.length;
  const newStart = b[Math.max(0, head - 1)]?.start ?? 0;
  const newEnd = b[Math.min(b.length - 1, b.length - tail)]?.end ?? newLine.length;
  const from = oldLine.slice(oldStart, oldEnd);
  const to = newLine.slice(newStart, newEnd);
  if (from.trim().length < 4 || from === to || to.includes(from)) return undefined;
  // Prose in strings and comments changes one place at a time; code patterns recur.
  if (inStringOrComment(oldLine, a[head]?.start ?? oldLine.length) || !/[A-Za-z_$]/.test(from)) return undefined;
  return (document, exclude) => {
    const sites = tokenBoundedOccurrences(document.text, from).filter((start) => !overlaps(start, start + from.length, exclude));
    // A pattern found everywhere is not a deliberate one.
    if (sites.length > 12) return [];
    return sites.map((start) => proposal(document, [{ start, end: start + from.length, newText: to }], `replace ${from.trim()} → ${to.trim()}`));
  };
}

/** The head of a definition: `function name(`, `def name(`, a method `name(…) {`, `const name = (`. */
const DEFINED = /^(\s*)(?:(?:export|default|async|public|private|protected|static|override)\s+)*(?:(function\*?|def)\s+([A-Za-z_$][\w$]*)\s*\(|(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?\(|(?!(?:if|for|while|switch|catch|return|constructor)\b)([A-Za-z_$][\w$]*)\s*\((?=.*\)\s*(?::[^{]*)?\{\s*$))/;

/**
 * A function added whose body passes its parameters, as they are, to one call (`statement(sql)`
 * around `this.db.prepare(sql)`): that call elsewhere goes through the new function. A wrapper is
 * written to be used in the old call's place.
 */
function wrapperRule(removed: readonly string[], added: readonly string[]): Rule | undefined {
  // A small function added (a wrapper is a few lines), nothing removed.
  if (added.length > 20 || removed.some((line) => line.trim())) return undefined;
  const head = added.findIndex((line) => DEFINED.test(line));
  if (head < 0) return undefined;
  const match = DEFINED.exec(added[head]!)!;
  const name = match[3] ?? match[4] ?? match[5]!;
  const keyword = match[2];
  const open = added[head]!.indexOf('(', match[0].length - 1);
  const signature = parseCall(added[head]!, open, name);
  const declared = signature?.args.map(parameterName);
  if (!declared || declared.some((p) => !p)) return undefined;
  // A Python method's `self` is its receiver, not a parameter it passes on.
  const selfMethod = keyword === 'def' && declared[0] === 'self';
  const parameters = selfMethod ? declared.slice(1) : declared;
  if (parameters.length === 0) return undefined;
  const body = added.slice(head + 1).join('\n');
  const passing = new RegExp(`(new\\s+)?([A-Za-z_$][\\w$]*(?:\\s*\\.\\s*[A-Za-z_$][\\w$]*)*)\\s*\\(\\s*${parameters.join('\\s*,\\s*')}\\s*\\)`, 'g');
  const calls = [...body.matchAll(passing)];
  if (calls.length !== 1 || calls[0]![2] === name) return undefined;
  const callee = calls[0]![2]!.replace(/\s+/g, '');
  // `new X(…)` wrapped: the sites are constructions, and the wrapper replaces `new` too.
  const constructs = calls[0]![1] !== undefined;
  // A method is called on the same receiver as the call it wraps (`this.`, `self.`); a function by its name.
  const receiver = /^(this|self)\./.exec(callee)?.[1];
  const method = keyword === 'def' ? selfMethod : keyword !== 'function' && !match[4];
  if (method && !receiver) return undefined;
  const replacement = method ? `${receiver}.${name}` : name;
  const escaped = callee.replace(/[.$]/g, (c) => `\\${c}`).replace(/\\\./g, '\\s*\\.\\s*');
  const pattern = new RegExp(`${constructs ? '\\bnew\\s+' : ''}(?<![\\w$.])${escaped}\\s*\\(`, 'g');
  return (document, exclude) => {
    const out = [];
    for (const site of document.text.matchAll(pattern)) {
      const start = site.index;
      const open = start + site[0].length - 1;
      if (overlaps(start, open, exclude)) continue;
      const call = parseCall(document.text, open, callee, true);
      if (!call || call.args.length !== parameters.length) continue;
      out.push(proposal(document, [{ start, end: open, newText: replacement }], `call ${replacement} for ${callee}`));
    }
    return out;
  };
}

/** Words followed by `(` that are not the name of a call or signature. */
const KEYWORDS = new Set(['function', 'if', 'for', 'while', 'switch', 'catch', 'return', 'typeof', 'new', 'await', 'elif', 'def', 'fn', 'func', 'with', 'and', 'or', 'not', 'in', 'of', 'sizeof', 'print']);

/** Index of the unclosed `(` before `at`, or -1. */
function openParenBefore(line: string, at: number): number {
  let depth = 0;
  for (let i = Math.min(at, line.length) - 1; i >= 0; i--) {
    if (line[i] === ')') depth++;
    else if (line[i] === '(') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

interface CallSite {
  name: string;
  open: number;
  close: number;
  args: string[];
  /** Where each argument (trimmed) starts and ends in the text. */
  spans: Array<{ start: number; end: number }>;
}

/** The call or signature `name(...)` around `at`, on one line. */
function callAround(line: string, at: number): CallSite | undefined {
  let depth = 0;
  for (let i = Math.min(at, line.length) - 1; i >= 0; i--) {
    const char = line[i]!;
    if (char === ')') depth++;
    else if (char === '(') {
      if (depth === 0) {
        const name = /([A-Za-z_$][\w$]*)\s*$/.exec(line.slice(0, i))?.[1];
        const site = name && !KEYWORDS.has(name) ? parseCall(line, i, name) : undefined;
        return site;
      }
      depth--;
    }
  }
  return undefined;
}

/** The call `name(...)` whose `(` is at `open`; on one line unless `multiLine`. */
function parseCall(text: string, open: number, name: string, multiLine = false): CallSite | undefined {
  const args: string[] = [];
  const spans: Array<{ start: number; end: number }> = [];
  const push = (from: number, to: number) => {
    const raw = text.slice(from, to);
    const lead = raw.length - raw.trimStart().length;
    args.push(raw.trim());
    spans.push({ start: from + lead, end: from + lead + raw.trim().length });
  };
  let depth = 0;
  let quote: string | undefined;
  let start = open + 1;
  for (let i = open + 1; i < text.length && i < open + 2000; i++) {
    const char = text[i]!;
    if (char === '\n' && (!multiLine || quote)) return undefined;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      if (depth === 0) {
        if (char !== ')') return undefined;
        // `f(a, b,)`: a trailing comma adds no argument.
        if (text.slice(start, i).trim()) push(start, i);
        return { name, open, close: i, args, spans };
      }
      depth--;
    } else if (char === ',' && depth === 0) {
      push(start, i);
      start = i + 1;
    }
  }
  return undefined;
}

type ArgTransform = (args: string[]) => string[] | undefined;

/** An argument added, removed or replaced in a call or signature. */
function argumentChange(oldLine: string, newLine: string, changeAt: number): Rule | undefined {
  const before = callAround(oldLine, changeAt);
  if (!before) return undefined;
  const after = parseCall(newLine, before.open, before.name);
  if (!after) return undefined;
  const oldArgs = before.args;
  const newArgs = after.args;
  let transform: ArgTransform | undefined;
  let reason = '';
  if (newArgs.length === oldArgs.length + 1) {
    const i = firstDifference(oldArgs, newArgs);
    if (!sameExcept(newArgs, i, oldArgs)) return undefined;
    const added = newArgs[i]!;
    transform = (args) => (args.length === oldArgs.length ? [...args.slice(0, i), added, ...args.slice(i)] : undefined);
    reason = `add argument ${added} to ${before.name}(…)`;
  } else if (newArgs.length === oldArgs.length - 1) {
    const i = firstDifference(newArgs, oldArgs);
    if (!sameExcept(oldArgs, i, newArgs)) return undefined;
    transform = (args) => (args.length === oldArgs.length ? [...args.slice(0, i), ...args.slice(i + 1)] : undefined);
    reason = `remove argument ${i + 1} of ${before.name}(…)`;
  } else if (newArgs.length === oldArgs.length) {
    const i = firstDifference(oldArgs, newArgs);
    if (i >= oldArgs.length || oldArgs.some((arg, k) => k !== i && arg !== newArgs[k])) return undefined;
    const from = oldArgs[i]!;
    const to = newArgs[i]!;
    transform = (args) => (args.length === oldArgs.length && args[i] === from ? args.map((arg, k) => (k === i ? to : arg)) : undefined);
    reason = `change argument ${from} → ${to} of ${before.name}(…)`;
  } else return undefined;
  const name = before.name;
  const sameName: Rule = (document, exclude) => {
    const out: EditProposal[] = [];
    for (const start of wholeWordOccurrences(document.text, name)) {
      const open = document.text.indexOf('(', start + name.length);
      if (open < 0 || document.text.slice(start + name.length, open).trim()) continue;
      const site = parseCall(document.text, open, name);
      if (!site || overlaps(site.open, site.close, exclude)) continue;
      const changed = transform!(site.args);
      if (!changed) continue;
      out.push(proposal(document, [{ start: site.open + 1, end: site.close, newText: changed.join(', ') }], reason));
    }
    return out;
  };
  const qualifier = /([A-Za-z_$][\w$]*)\s*\.\s*$/.exec(oldLine.slice(0, before.open - name.length))?.[1];
  // Only a keyword argument added: an option that sibling functions share (a positional one
  // means something different to each function).
  const keywordAdded = newArgs.length === oldArgs.length + 1 && /^[A-Za-z_][\w]*\s*=(?!=)/.test(newArgs[firstDifference(oldArgs, newArgs)]!);
  if (!qualifier || oldArgs.length === 0 || !keywordAdded) return sameName;
  return orElse(sameName, siblingCalls(qualifier, oldArgs, newArgs));
}

/**
 * Calls of other functions of the same module or object (`hashlib.md5(x)`, `hashlib.sha1(x)`)
 * with exactly the same arguments: the same change of arguments (`usedforsecurity=False`
 * added to each).
 */
function siblingCalls(qualifier: string, oldArgs: string[], newArgs: string[]): Rule {
  const pattern = new RegExp(`(?<![\\w$.])${qualifier}\\s*\\.\\s*([A-Za-z_$][\\w$]*)\\s*\\(`, 'g');
  return (document, exclude) => {
    const out: EditProposal[] = [];
    for (const match of document.text.matchAll(pattern)) {
      const open = match.index + match[0].length - 1;
      const site = parseCall(document.text, open, match[1]!);
      if (!site || overlaps(site.open, site.close, exclude) || site.args.length !== oldArgs.length || site.args.some((arg, k) => arg !== oldArgs[k])) continue;
      out.push(proposal(document, [{ start: site.open + 1, end: site.close, newText: newArgs.join(', ') }], `align arguments of ${qualifier}.${match[1]}(…)`));
    }
    return out;
  };
}

/** A definition line: the parameters of `name(...)` are declared here, not passed. */
const DEFINITION = /^\s*(?:export\s+)?(?:async\s+)?(?:def|function\*?|func|fn)\s+([A-Za-z_$][\w$]*)\s*\(/;

/** A parameter's name, from a declaration like `name`, `name=None`, `name: int = 3`, `*name`. */
function parameterName(parameter: string): string | undefined {
  return /^\*{0,2}([A-Za-z_$][\w$]*)\s*(?:[?]?\s*[:=]|$)/.exec(parameter.trim())?.[1];
}

/** Where a definition's parameter list opens: `def f(`, `function f(`, `x = function(`, a method `name(…) {`. */
const PARAMETERS_OPEN = /^\s*(?:(?:export|default|async|public|private|protected|static|override)\s+)*(?:(?:def|function\*?|func|fn)\s*[A-Za-z_$]?[\w$]*\s*\(|[A-Za-z_$][\w$.]*\s*[:=]\s*(?:async\s+)?function\s*[\w$]*\s*\(|(?!(?:if|for|while|switch|catch|return)\b)[A-Za-z_$][\w$]*\s*\((?=.*\)\s*(?::[^{]*)?\{\s*$))/;

/** The parameter names of a one-line definition, or undefined when the line is not one. */
function parameterNames(line: string): { names: string[]; close: number } | undefined {
  const open = PARAMETERS_OPEN.exec(line);
  if (!open) return undefined;
  const site = parseCall(line, open[0].length - 1, 'definition');
  if (!site) return undefined;
  const names = site.args.map(parameterName);
  return names.every((name): name is string => name !== undefined) ? { names, close: site.close } : undefined;
}

/**
 * One parameter of a definition renamed along with other changes (`function(route, fn)` to
 * `function use(path, fn)`, `prefetch=True` to `stream=False`): its uses in the body, the lines
 * below indented deeper than the definition, are renamed. Not attributes (`.route`) and not
 * beyond the body, where the same word is another function's business.
 */
function parameterRenameRule(oldLine: string, newLine: string): Rule | undefined {
  // A definition's line opens its body (`{`, or `:` in Python): checked before the costlier pattern.
  if (!/[{:]\s*$/.test(oldLine) || !PARAMETERS_OPEN.test(oldLine)) return undefined;
  // A plain rename of the line's one name is the rename rule's (all its uses, other files too).
  if (renameBetween(oldLine, newLine)) return undefined;
  const before = parameterNames(oldLine);
  const after = parameterNames(newLine);
  if (!before || !after || before.names.length !== after.names.length) return undefined;
  const renamed = before.names.map((name, i) => [name, after.names[i]!] as const).filter(([a, b]) => a !== b);
  if (renamed.length !== 1) return undefined;
  const [from, to] = renamed[0]!;
  if (from.length < 2 || NOT_RENAMEABLE.has(from) || NOT_RENAMEABLE.has(to) || after.names.includes(from)) return undefined;
  const indent = leadingWhitespace(newLine).length;
  return (document, exclude) => {
    if (!exclude) return [];
    const text = document.text;
    // The body: from the line after the edit to the first line indented no deeper than the definition.
    const bodyStart = text.indexOf('\n', exclude.end - 1) + 1;
    if (bodyStart <= 0) return [];
    let bodyEnd = bodyStart;
    while (bodyEnd < text.length) {
      let lineEnd = text.indexOf('\n', bodyEnd);
      if (lineEnd < 0) lineEnd = text.length;
      const line = text.slice(bodyEnd, lineEnd);
      if (line.trim() && leadingWhitespace(line).length <= indent) break;
      bodyEnd = lineEnd + 1;
    }
    return wholeWordOccurrences(text.slice(0, bodyEnd), from)
      .filter((start) => start >= bodyStart && !/\.\s*$/.test(text.slice(Math.max(0, start - 8), start)))
      .map((start) => proposal(document, [{ start, end: start + from.length, newText: to }], `rename parameter ${from} → ${to}`));
  };
}

/**
 * A parameter added to or removed from a definition: the calls of that function that pass
 * arguments by keyword (`f(a, timeout=timeout)`) pass the new parameter the same way, or stop
 * passing the removed one. Positional calls are left alone: where a new positional argument
 * goes, and what it is, is not known.
 */
function signatureChange(oldLine: string, newLine: string, changeAt: number): Rule | undefined {
  const definition = DEFINITION.exec(oldLine);
  if (!definition || DEFINITION.exec(newLine)?.[1] !== definition[1]) return undefined;
  const name = definition[1]!;
  const before = parseCall(oldLine, oldLine.indexOf('(', definition[0].length - 1), name);
  const after = before && parseCall(newLine, newLine.indexOf('(', definition[0].length - 1), name);
  if (!before || !after || changeAt < before.open) return undefined;
  const oldNames = before.args.map(parameterName);
  const newNames = after.args.map(parameterName);
  if (oldNames.some((n) => !n) || newNames.some((n) => !n)) return undefined;
  const addedNames = newNames.filter((n) => !oldNames.includes(n));
  const removedNames = oldNames.filter((n) => !newNames.includes(n));
  // Exactly one parameter in or out (by name: a changed default or annotation is not one).
  if (addedNames.length + removedNames.length !== 1) return undefined;
  const keyword = /^([A-Za-z_][\w]*)\s*=(?!=)/;
  if (addedNames.length === 1) {
    const added = addedNames[0]!;
    const position = newNames.indexOf(added);
    // Its neighbours in the declaration place it among a call's keyword arguments.
    const nextNames = newNames.slice(position + 1) as string[];
    const previousNames = newNames.slice(0, position) as string[];
    return (document, exclude) =>
      callSites(document, name, exclude).flatMap((site) => {
        const keywords = site.args.map((arg) => keyword.exec(arg)?.[1]);
        if (keywords.every((k) => !k) || keywords.includes(added)) return [];
        // Insert before the first keyword argument that comes after it in the declaration,
        // otherwise after the last one that comes before it.
        let at = keywords.findIndex((k) => k !== undefined && nextNames.includes(k));
        if (at < 0) {
          const last = keywords.reduce((found, k, i) => (k !== undefined && previousNames.includes(k) ? i : found), -1);
          if (last < 0) return [];
          at = last + 1;
        }
        // Inserted next to a neighbour, so a call laid out over several lines keeps its layout.
        const edit = at < site.args.length
          ? { start: site.spans[at]!.start, end: site.spans[at]!.start, newText: `${added}=${added}, ` }
          : { start: site.spans[at - 1]!.end, end: site.spans[at - 1]!.end, newText: `, ${added}=${added}` };
        return [proposal(document, [edit], `pass ${added}=${added} to ${name}(…)`)];
      });
  }
  const removedName = removedNames[0]!;
  return (document, exclude) =>
    callSites(document, name, exclude).flatMap((site) => {
      const index = site.args.findIndex((arg) => keyword.exec(arg)?.[1] === removedName);
      if (index < 0) return [];
      // The argument goes with the separator before it (or, first, the one after it).
      const edit = index > 0
        ? { start: site.spans[index - 1]!.end, end: site.spans[index]!.end, newText: '' }
        : { start: site.spans[0]!.start, end: site.spans[1]?.start ?? site.spans[0]!.end, newText: '' };
      return [proposal(document, [edit], `stop passing ${removedName} to ${name}(…)`)];
    });
}

/** The calls `name(...)` in a document, one line or several (its definitions excluded). */
function callSites(document: EditDocument, name: string, exclude: { start: number; end: number } | undefined): CallSite[] {
  const out: CallSite[] = [];
  for (const start of wholeWordOccurrences(document.text, name)) {
    const open = document.text.indexOf('(', start + name.length);
    if (open < 0 || document.text.slice(start + name.length, open).trim()) continue;
    const lineStart = document.text.lastIndexOf('\n', start - 1) + 1;
    if (DEFINITION.test(document.text.slice(lineStart, open + 1))) continue;
    const site = parseCall(document.text, open, name, true);
    if (site && !overlaps(site.open, site.close, exclude)) out.push(site);
  }
  return out;
}

const firstDifference = (shorter: string[], longer: string[]) => {
  let i = 0;
  while (i < shorter.length && shorter[i] === longer[i]) i++;
  return i;
};

const sameExcept = (longer: string[], skip: number, shorter: string[]) =>
  longer.filter((_, k) => k !== skip).every((arg, k) => arg === shorter[k]);

/**
 * Whole lines removed (up to five): the one other place where the same lines stand. (Lines
 * added are not propagated: an added line after a recurring anchor was right 1 time in 14 on
 * the replayed histories; what a block gains at one site it rarely gains at the next.)
 */
function removedLinesRule(removedLines: string[]): Rule | undefined {
  const removed = removedLines.map((line) => line.trim()).filter(Boolean);
  if (removed.length === 0 || removed.length > 5 || removed.join('').length < 12) return undefined;
  return (document, exclude) => {
    const out: EditProposal[] = [];
    const lines = document.text.split('\n');
    let offset = 0;
    for (let no = 0; no < lines.length; offset += lines[no]!.length + 1, no++) {
      if (lines[no]!.trim() !== removed[0]) continue;
      let k = 0;
      let end = offset;
      let cursor = no;
      while (k < removed.length && cursor < lines.length) {
        const line = lines[cursor]!;
        if (line.trim() === removed[k]) k++;
        else if (line.trim()) break;
        end += line.length + 1;
        cursor++;
      }
      if (k < removed.length || overlaps(offset, end, exclude)) continue;
      out.push(proposal(document, [{ start: offset, end: Math.min(end, document.text.length), newText: '' }], `delete ${removed.join(' / ')}`));
    }
    // Lines found in several places (`var self = this;`) are an idiom that stays elsewhere; one
    // remaining copy is the duplicate being cleaned up (express: 7 right in 11 with this cap,
    // 7 in 15 without).
    return out.length > 1 ? [] : out;
  };
}

export function wholeWordOccurrences(text: string, word: string): number[] {
  const out: number[] = [];
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + word.length)) {
    if (at > 0 && isWordChar(text.charCodeAt(at - 1))) continue;
    if (isWordChar(text.charCodeAt(at + word.length))) continue;
    out.push(at);
  }
  return out;
}

/** Occurrences of `snippet` that start and end on token boundaries. */
function tokenBoundedOccurrences(text: string, snippet: string): number[] {
  const out: number[] = [];
  const startsWord = isWordChar(snippet.charCodeAt(0));
  const endsWord = isWordChar(snippet.charCodeAt(snippet.length - 1));
  for (let at = text.indexOf(snippet); at >= 0; at = text.indexOf(snippet, at + snippet.length)) {
    if (startsWord && at > 0 && isWordChar(text.charCodeAt(at - 1))) continue;
    if (endsWord && isWordChar(text.charCodeAt(at + snippet.length))) continue;
    out.push(at);
  }
  return out;
}
