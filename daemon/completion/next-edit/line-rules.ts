// Next-edit rules that judge the edited line as text rather than as a token pattern:
//   - trailing blanks stripped; the blank at a comment marker changed;
//   - a trailing comment (a lint or type-checker directive, say) deleted;
//   - a line changed while an identical copy of it stands elsewhere;
//   - one string literal changed while the same literal stands elsewhere;
//   - a named string constant added: where its string is still written out, the name.
// Each returns a Rule (see rule.ts) or undefined when the edit is not its kind. Pure.
import { editSimilarity, leadingWhitespace, tokenSpans } from '../text.js';
import { forEachLine, type LineChange, overlaps, proposal, type Rule } from './rule.js';
import type { EditProposal } from './propagate.js';

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** Trailing spaces and tabs removed from every edited line, nothing else changed. */
export function trailingWhitespaceRule(change: LineChange): Rule | undefined {
  const { oldLines, newLines } = change;
  if (oldLines.length !== newLines.length) return undefined;
  let stripped = false;
  for (let i = 0; i < oldLines.length; i++) {
    const [before, after] = [stripCr(oldLines[i]!), stripCr(newLines[i]!)];
    if (before === after) continue;
    if (before.trimEnd() !== after || after !== after.trimEnd()) return undefined;
    stripped = true;
  }
  if (!stripped) return undefined;
  return (document, exclude) => {
    const out = [];
    const text = document.text;
    TRAILING.lastIndex = 0;
    for (let match = TRAILING.exec(text); match; match = TRAILING.exec(text)) {
      const start = match.index;
      const end = start + match[1]!.length;
      if (!overlaps(start, end, exclude)) out.push(proposal(document, [{ start, end, newText: '' }], 'strip trailing whitespace'));
    }
    return out;
  };
}

/** Blanks at the end of a line (before `\r\n` too). */
const TRAILING = /([ \t]+)(?=\r?\n|$)/g;

/**
 * The blank before or after a line comment's marker changed, and nothing else (`x: # c` to
 * `x:  # c`, `#note` to `# note`): other comments with the old blank there, next to the same
 * kind of character (a word character stands for any), get the new one. Other spacing
 * changes (`){` to `) {`) were measured and are mostly one-offs.
 */
export function commentSpacingRule(change: LineChange): Rule | undefined {
  const { oldLines, newLines } = change;
  if (oldLines.length !== 1 || newLines.length !== 1) return undefined;
  const [before, after] = [stripCr(oldLines[0]!).trimEnd(), stripCr(newLines[0]!).trimEnd()];
  const a = tokenSpans(before);
  const b = tokenSpans(after);
  if (a.length < 2 || a.length !== b.length || a.some((token, i) => token.text !== b[i]!.text)) return undefined;
  const gaps = [];
  for (let i = 0; i + 1 < a.length; i++) {
    const from = before.slice(a[i]!.end, a[i + 1]!.start);
    const to = after.slice(b[i]!.end, b[i + 1]!.start);
    if (from !== to) gaps.push({ i, from, to });
  }
  const comment = commentStart(before);
  if (gaps.length !== 1 || comment < 0) return undefined;
  const { i, from, to } = gaps[0]!;
  const marker = before[comment] === '#' ? '#' : '//';
  const side: 'before' | 'after' | undefined = a[i + 1]!.start === comment ? 'before' : a[i]!.end === comment + marker.length ? 'after' : undefined;
  if (!side) return undefined;
  // The character on the other side of the blank: any word character for a word, else itself.
  const edge = side === 'before' ? before[a[i]!.end - 1]! : before[a[i + 1]!.start]!;
  const word = /[\w$]/.test(edge);
  const fits = (char: string | undefined) => char !== undefined && (word ? /[\w$]/.test(char) : char === edge);
  return (document, exclude) => {
    const out: EditProposal[] = [];
    const text = document.text;
    forEachLine(text, (line, lineStart) => {
      const at = line.includes(marker) ? commentStart(line) : -1;
      if (at >= 0 && line.startsWith(marker, at)) {
        let start = -1;
        if (side === 'before') {
          const code = line.slice(0, at);
          if (code.endsWith(from) && fits(code[code.length - from.length - 1]) && code.trim()) start = at - from.length;
        } else {
          const rest = line.slice(at + marker.length);
          if (rest.startsWith(from) && fits(rest[from.length])) start = at + marker.length;
        }
        if (start >= 0 && !overlaps(lineStart + start, lineStart + start + from.length, exclude)) {
          out.push(proposal(document, [{ start: lineStart + start, end: lineStart + start + from.length, newText: to }], `respace comment ${JSON.stringify(from)} → ${JSON.stringify(to)}`));
        }
      }
    });
    return out;
  };
}

/**
 * A line changed while identical copies of it (the same text, whatever the indentation) stand
 * elsewhere: the copies get the same change. An identical line is the strongest sign of an
 * analogous site, so this holds for strings and comments too.
 */
export function sameLineRule(change: LineChange): Rule | undefined {
  const { oldLines, newLines } = change;
  if (oldLines.length !== 1 || newLines.length !== 1) return undefined;
  const [before, after] = [stripCr(oldLines[0]!), stripCr(newLines[0]!)];
  const content = before.trim();
  if (content.length < 10 || !/[A-Za-z_$]/.test(content) || before === after) return undefined;
  // The change, as a splice of the old line: outside its indentation, which copies do not share.
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const indent = leadingWhitespace(before).length;
  if (prefix < indent) return undefined;
  const from = prefix - indent;
  const removed = before.length - prefix - suffix;
  // Within the line's text: a change among trailing blanks has no place in a copy without them.
  if (from + removed > content.length) return undefined;
  const inserted = after.slice(prefix, after.length - suffix);
  return (document, exclude) => {
    const out = [];
    const text = document.text;
    for (let at = text.indexOf(content); at >= 0; at = text.indexOf(content, at + content.length)) {
      const lineStart = text.lastIndexOf('\n', at - 1) + 1;
      let lineEnd = text.indexOf('\n', at);
      if (lineEnd < 0) lineEnd = text.length;
      const line = stripCr(text.slice(lineStart, lineEnd));
      if (line.trim() !== content || leadingWhitespace(line).length !== at - lineStart) continue;
      const start = at + from;
      if (overlaps(lineStart, lineEnd, exclude)) continue;
      out.push(proposal(document, [{ start, end: start + removed, newText: inserted }], `same line ${content.slice(0, 40)}`));
    }
    return out;
  };
}

/**
 * Part or all of a trailing comment deleted (`x  # type: ignore[attr]` to `x`): the same comment
 * text elsewhere is deleted too. Bracketed details (`[attr]`, `(E501)`) may differ between sites:
 * a directive is removed whatever it names. Prose edits inside a comment are not this rule's:
 * only deletions, of at least a few words' worth of text.
 */
export function commentRemovalRule(change: LineChange, deletedText: string, insertedText: string): Rule | undefined {
  const { oldLines } = change;
  if (insertedText !== '' || deletedText.includes('\n') || oldLines.length !== 1) return undefined;
  const line = stripCr(oldLines[0]!);
  const core = deletedText.trim();
  if (core.length < 6 || !/[A-Za-z]/.test(core)) return undefined;
  // The deletion lies in the line's comment (or starts at it, after blanks).
  const comment = commentStart(line);
  const at = change.offsetInLine;
  if (comment < 0 || (at < comment && line.slice(at, comment).trim() !== '')) return undefined;
  const lead = deletedText.length - deletedText.trimStart().length;
  const pattern = directivePattern(deletedText);
  if (!pattern) return undefined;
  return (document, exclude) => {
    const out = [];
    const text = document.text;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      const [start, end] = [match.index, match.index + match[0].length];
      if (overlaps(start, end, exclude)) continue;
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      // The site must be a comment too, not the same characters in code or a string.
      const siteComment = commentStart(text.slice(lineStart, end));
      if (siteComment < 0 || siteComment > start + lead - lineStart) continue;
      out.push(proposal(document, [{ start, end, newText: '' }], `drop comment ${core.slice(0, 40)}`));
    }
    return out;
  };
}

/** The deleted text as a pattern in which bracketed details (`[attr]`, `(E501)`) may differ. */
function directivePattern(deletedText: string): RegExp | undefined {
  const source = escapeRegExp(deletedText)
    .replace(/\\\[[^\]]*?\\\]/g, '\\[[^\\]\\n]*\\]')
    .replace(/\\\([^)]*?\\\)/g, '\\([^)\\n]*\\)');
  try {
    return new RegExp(source, 'g');
  } catch {
    // An odd mix of escaped brackets: no pattern, no proposal (never an error).
    return undefined;
  }
}

/** Where a line comment (`//` or `#`, outside strings) starts, or -1. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === '`') quote = char;
    else if ((char === '/' && line[i + 1] === '/') || char === '#') return i;
  }
  return -1;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&');

/** The string literals of a line (quotes included), with where each starts. */
function stringLiterals(line: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  for (let i = 0; i < line.length; i++) {
    const quote = line[i]!;
    if (quote === '#' || (quote === '/' && line[i + 1] === '/')) break;
    if (quote !== '"' && quote !== "'" && quote !== '`') continue;
    let j = i + 1;
    while (j < line.length && line[j] !== quote) j += line[j] === '\\' ? 2 : 1;
    if (j >= line.length) break;
    out.push({ start: i, text: line.slice(i, j + 1) });
    i = j;
  }
  return out;
}

/**
 * The one string literal a line edit changed (`'application/json'` to `'text/javascript'`), the
 * code around it untouched: the same literal elsewhere, whole, changes alike.
 */
export function stringLiteralRule(change: LineChange): Rule | undefined {
  const { oldLines, newLines } = change;
  if (oldLines.length !== 1 || newLines.length !== 1) return undefined;
  const [before, after] = [stripCr(oldLines[0]!), stripCr(newLines[0]!)];
  const a = stringLiterals(before);
  const b = stringLiterals(after);
  if (a.length === 0 || a.length !== b.length) return undefined;
  const changed = a.map((_, i) => i).filter((i) => a[i]!.text !== b[i]!.text);
  if (changed.length !== 1) return undefined;
  const [from, to] = [a[changed[0]!]!, b[changed[0]!]!];
  // Only the literal changed: the code before and after it is the same.
  if (before.slice(0, from.start) !== after.slice(0, to.start) || before.slice(from.start + from.text.length) !== after.slice(to.start + to.text.length)) return undefined;
  if (from.text.length < 6 || !/[A-Za-z]/.test(from.text)) return undefined;
  return (document, exclude) => {
    const out = [];
    const text = document.text;
    for (let at = text.indexOf(from.text); at >= 0; at = text.indexOf(from.text, at + 1)) {
      if (overlaps(at, at + from.text.length, exclude)) continue;
      // A whole literal: the opening quote is not the closing one of another string.
      const lineStart = text.lastIndexOf('\n', at - 1) + 1;
      if (!stringLiterals(text.slice(lineStart, at + from.text.length)).some((literal) => literal.start === at - lineStart)) continue;
      out.push(proposal(document, [{ start: at, end: at + from.text.length, newText: to.text }], `restring ${from.text} → ${to.text}`));
    }
    return out;
  };
}

/** `const NAME = 'literal';` (or `NAME = "literal"` in Python) at the top level: a named string constant. */
const STRING_CONSTANT = /^(?:export\s+)?(?:(?:const|let|var|final)\s+)?([A-Z][A-Z0-9_]*)\s*(?::\s*[^=]+)?=\s*(['"`].*['"`])\s*;?\s*$/;

/**
 * A named string constant added at the top level (possibly spelled over several lines): the same
 * string where it is still written out, or one nearly the same (a long query a word apart: 90% of
 * its characters alike), becomes the constant.
 */
export function namedConstantRule(added: readonly string[]): Rule | undefined {
  if (added.length > 12) return undefined;
  const code = added.filter((line) => line.trim() && !/^\s*(?:\/\/|\/\*|\*|#)/.test(line));
  const joined = code.length > 0 && /=\s*$/.test(code[0]!) ? `${code[0]!.trimEnd()} ${code.slice(1).map((line) => line.trim()).join(' ')}` : code.length === 1 ? code[0]! : '';
  const match = STRING_CONSTANT.exec(joined);
  if (!match) return undefined;
  const [, name, literal] = match;
  const value = stringLiterals(literal!);
  if (value.length !== 1 || value[0]!.text !== literal || literal!.length < 8) return undefined;
  return (document, exclude) => {
    const out: EditProposal[] = [];
    const text = document.text;
    forEachLine(text, (line, lineStart) => {
      if (line.includes(literal![0]!)) {
        for (const found of stringLiterals(line)) {
          const start = lineStart + found.start;
          if (overlaps(start, start + found.text.length, exclude)) continue;
          const alike = found.text === literal || (literal!.length >= 40 && editSimilarity(found.text, literal!) >= 0.9);
          if (alike) out.push(proposal(document, [{ start, end: start + found.text.length, newText: name! }], `constant ${name} for ${found.text.slice(0, 30)}`));
        }
      }
    });
    return out;
  };
}
