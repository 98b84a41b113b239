// Indentation styles, so that lines a sketch adds follow the file's style: a sketch indented with
// tabs for a file indented with spaces (or the reverse), or a sketch shifted left as a whole
// (models often drop a method's class indentation), is re-indented to fit. Pure.

export interface IndentStyle {
  useTabs: boolean;
  /** Columns per level (spaces per level, or a tab's width). */
  unit: number;
}

export function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** The style most lines use; `fallbackUnit` when the text has too little indentation to tell. */
export function detectIndent(lines: readonly string[], fallbackUnit = 4): IndentStyle {
  let tabs = 0;
  let spaces = 0;
  const steps = new Map<number, number>();
  let previous = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const ws = leadingWhitespace(line);
    if (ws.startsWith('\t')) tabs++;
    else if (ws.startsWith(' ')) spaces++;
    if (!ws.includes('\t')) {
      const width = ws.length;
      const step = Math.abs(width - previous);
      if (step >= 2 && step <= 8) steps.set(step, (steps.get(step) ?? 0) + 1);
      previous = width;
    }
  }
  let unit = fallbackUnit;
  let best = 0;
  for (const [step, count] of steps) if (count > best || (count === best && step < unit)) [unit, best] = [step, count];
  return { useTabs: tabs > spaces, unit };
}

/** Width in columns, a tab counting `tabWidth`. */
export function indentColumns(ws: string, tabWidth: number): number {
  let columns = 0;
  for (const char of ws) columns += char === '\t' ? tabWidth : 1;
  return columns;
}

export function renderIndent(columns: number, style: IndentStyle): string {
  const width = Math.max(0, columns);
  if (!style.useTabs) return ' '.repeat(width);
  return '\t'.repeat(Math.floor(width / style.unit)) + ' '.repeat(width % style.unit);
}

/** Whether the line's indentation already uses the style's characters. */
export function fitsStyle(ws: string, style: IndentStyle): boolean {
  return style.useTabs ? !ws.includes(' '.repeat(style.unit)) && !/ \t/.test(ws) : !ws.includes('\t');
}

/**
 * Translates sketch indentation to the file's: columns are measured with the sketch's own tab
 * width, shifted by `offset` (the usual difference seen on anchored lines), and rendered in the
 * file's style.
 */
export class Reindenter {
  constructor(
    readonly file: IndentStyle,
    readonly sketchTabWidth: number,
    readonly offset: number,
  ) {}

  /** Whether the sketch's indentation is already the file's (nothing to translate). */
  get identity(): boolean {
    return this.offset === 0;
  }

  columnsOfSketch(line: string): number {
    return indentColumns(leadingWhitespace(line), this.sketchTabWidth);
  }

  columnsOfFile(line: string): number {
    return indentColumns(leadingWhitespace(line), this.file.unit);
  }

  /** A sketch line in the file's indentation. */
  render(line: string): string {
    const ws = leadingWhitespace(line);
    if (line.trim() === '') return '';
    if (this.offset === 0 && fitsStyle(ws, this.file)) return line;
    return renderIndent(this.columnsOfSketch(line) + this.offset, this.file) + line.slice(ws.length);
  }
}

/** Most common value; ties go to the smallest magnitude (0 when the list is empty). */
export function mode(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount || (count === bestCount && Math.abs(value) < Math.abs(best))) [best, bestCount] = [value, count];
  }
  return best;
}
