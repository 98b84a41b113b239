// Small pure helpers over source text that every part of completion shares: tokens, lines,
// indentation and brackets. Language-agnostic on purpose: the builtin engines must work on any
// file a user opens.

/** Identifiers, numbers, and single punctuation characters; whitespace is skipped. */
const TOKEN = /[A-Za-z_$][\w$]*|\d[\w.]*|\S/g;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export interface TokenSpan {
  text: string;
  start: number;
  end: number;
}

export function tokenSpans(text: string): TokenSpan[] {
  const spans: TokenSpan[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match; match = TOKEN.exec(text)) {
    spans.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

export const isIdentifier = (token: string) => /^[A-Za-z_$][\w$]*$/.test(token);
export const isWordChar = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36;

export function leadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return line.slice(0, i);
}

/** Indentation width, a tab counting as `tabSize` columns. */
export function indentWidth(line: string, tabSize = 4): number {
  let width = 0;
  for (const char of line) {
    if (char === ' ') width++;
    else if (char === '\t') width += tabSize - (width % tabSize);
    else break;
  }
  return width;
}

export const isBlank = (line: string) => line.trim().length === 0;

export function eolOf(text: string): '\n' | '\r\n' {
  const index = text.indexOf('\n');
  return index > 0 && text[index - 1] === '\r' ? '\r\n' : '\n';
}

/** Index of the start of the line that contains `offset`. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Index of the end (before the terminator) of the line that contains `offset`. */
export function lineEndOf(text: string, offset: number): number {
  let end = text.indexOf('\n', offset);
  if (end < 0) end = text.length;
  if (end > offset && text[end - 1] === '\r') end--;
  return end;
}

export const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
export const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * Brackets left open at the end of `text`, innermost last. Skips brackets inside string
 * literals and line comments on a best-effort basis (quotes of ', " and `; // and #).
 */
export function openBrackets(text: string): string[] {
  return scanBrackets(text).stack;
}

/** The string quote still open at the end of `text` (the cursor is inside a string literal). */
export function openQuote(text: string): string | undefined {
  return scanBrackets(text).quote;
}

function scanBrackets(text: string): { stack: string[]; quote: string | undefined } {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote || (char === '\n' && quote !== '`')) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    } else if (OPENERS[char]) stack.push(char);
    else if (CLOSERS[char] && stack[stack.length - 1] === CLOSERS[char]) stack.pop();
  }
  return { stack, quote };
}

/** Character-level similarity in [0, 1]: 1 - Levenshtein distance / longer length. */
export function editSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 1;
  return 1 - levenshtein(a, b) / longer;
}

export function levenshtein(a: string, b: string): number {
  if (a.length < b.length) [a, b] = [b, a];
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/** A copy of `text` that does not keep a larger string alive (V8 slices reference their parent). */
export function detach(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf16le').toString('utf16le');
}
