// Lines with their terminators, so that joining them gives back the text exactly (CRLF, a
// missing final newline and lone CRs survive every diff and merge).

/** Splits after each \n, \r\n or lone \r; the last line has no terminator (and may be empty only when the text is). */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  if (!text.includes('\r')) {
    // The common case, without carriage returns: jump from newline to newline.
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      lines.push(text.slice(start, end + 1));
      start = end + 1;
    }
    if (start < text.length) lines.push(text.slice(start));
    return lines;
  }
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10) {
      lines.push(text.slice(start, i + 1));
      start = i + 1;
    } else if (code === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      lines.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** The line without its terminator. */
export function lineContent(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  if (last === 10) return line.charCodeAt(line.length - 2) === 13 ? line.slice(0, -2) : line.slice(0, -1);
  if (last === 13) return line.slice(0, -1);
  return line;
}

/** The line's terminator ('' for a last line without one). */
export function lineTerminator(line: string): string {
  return line.slice(lineContent(line).length);
}

/** The terminator most lines use; \n for text without any. */
export function dominantEol(text: string): '\n' | '\r\n' | '\r' {
  if (!text.includes('\r')) return '\n';
  let crlf = 0;
  let lf = 0;
  let cr = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 13) {
      if (text.charCodeAt(i + 1) === 10) {
        crlf++;
        i++;
      } else cr++;
    } else if (code === 10) lf++;
  }
  if (crlf > lf && crlf >= cr) return '\r\n';
  if (cr > lf && cr > crlf) return '\r';
  return '\n';
}

/** Offsets where each line starts, plus the text's length at the end (so lines [a, b) span starts[a]..starts[b]). */
export function lineOffsets(lines: readonly string[]): number[] {
  const offsets = new Array<number>(lines.length + 1);
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    offsets[i] = offset;
    offset += lines[i]!.length;
  }
  offsets[lines.length] = offset;
  return offsets;
}
