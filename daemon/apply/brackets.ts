// Bracket balance of a few sketch lines, for telling whether a line beside a marker resumes the
// document (closes what the document opened) or belongs to new code. Brackets and quotes inside
// string literals do not count; a triple-quoted string counts as one bracket. Pure.

/**
 * Whether new lines close a bracket or a triple-quoted string they did not open (`]`, `}` or
 * `"""` ending something the document opened): then they resume the document at a closing line
 * that may be any of several in an elided region.
 */
export function closesOutside(lines: readonly string[]): boolean {
  return balance(lines).unopened;
}

/** Whether lines open a bracket or a triple-quoted string they do not close. */
export function opensOutside(lines: readonly string[]): boolean {
  return balance(lines).unclosed;
}

function balance(lines: readonly string[]): { unopened: boolean; unclosed: boolean } {
  let depth = 0;
  let tripleQuotes = 0;
  let unopened = false;
  for (const line of lines) {
    tripleQuotes += (line.match(/"""|'''/g) ?? []).length;
    const code = line.replace(/"""|'''/g, '').replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '');
    for (const ch of code) {
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if (ch === ')' || ch === ']' || ch === '}') {
        if (--depth < 0) {
          unopened = true;
          depth = 0;
        }
      }
    }
  }
  const oddQuotes = tripleQuotes % 2 === 1;
  return { unopened: unopened || oddQuotes, unclosed: depth > 0 || oddQuotes };
}
