// The apply accuracy corpus: (original, sketch, expected) cases built from real commits that
// change one region of a file. The sketch is the changed region with some unchanged lines around
// it, the rest elided by markers in the styles real models produce. Used by the apply benchmark;
// the git reading lives there.
import { diffTexts, splitLines } from '../../daemon/diff/index.js';

export interface CorpusCase {
  id: string;
  style: string;
  original: string;
  sketch: string;
  expected: string;
}

const HASH_COMMENT = new Set(['py', 'sh', 'rb', 'toml', 'cfg', 'yaml', 'yml', 'pl', 'r', 'ini', 'bash', 'mk', 'dockerfile']);
const SLASH_COMMENT = new Set(['js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'c', 'h', 'cc', 'cpp', 'go', 'rs', 'java', 'kt', 'swift', 'cs', 'scss']);

export function commentStyle(path: string): { line: (text: string) => string } | undefined {
  const ext = path.split('.').pop()!.toLowerCase();
  if (HASH_COMMENT.has(ext)) return { line: (text) => `# ${text}` };
  if (SLASH_COMMENT.has(ext)) return { line: (text) => `// ${text}` };
  if (ext === 'css') return { line: (text) => `/* ${text} */` };
  if (ext === 'html' || ext === 'xml' || ext === 'svg') return { line: (text) => `<!-- ${text} -->` };
  if (ext === 'lua' || ext === 'sql' || ext === 'hs') return { line: (text) => `-- ${text}` };
  if (ext === 'el' || ext === 'lisp' || ext === 'clj') return { line: (text) => `;; ${text}` };
  return undefined;
}

/** Leading whitespace of the first non-blank line among `lines`, for indenting a marker like its code. */
function indentOf(lines: readonly string[]): string {
  const line = lines.find((l) => l.trim() !== '');
  return line ? /^[ \t]*/.exec(line)![0] : '';
}

interface Style {
  name: string;
  context: number;
  marker: ((comment: { line: (text: string) => string }, indent: string) => string) | undefined;
}

/** The sketch styles: how much unchanged code a model shows around a change, and how it elides the rest. */
export const STYLES: Style[] = [
  { name: 'comment-marker, 3 lines of context', context: 3, marker: (c, indent) => indent + c.line('... existing code ...') },
  { name: 'comment-marker, 1 line of context', context: 1, marker: (c, indent) => indent + c.line('...') },
  { name: 'bare ..., 2 lines of context', context: 2, marker: () => '...' },
  { name: 'prose marker, 5 lines of context', context: 5, marker: (c) => c.line('rest of the code unchanged') },
  { name: 'fragment without markers, 3 lines of context', context: 3, marker: undefined },
];

/**
 * The cases one (before, after) pair yields: one per style, or none when the change is not a
 * single region (or is empty, or too big to be a sketch's typical edit).
 */
export function casesFor(id: string, path: string, before: string, after: string, maxRegionLines = 40): CorpusCase[] {
  const comment = commentStyle(path);
  if (!comment || before === after) return [];
  // Whether a file ends with a newline is not something a sketch can say (models add or drop the
  // last newline freely, and the merge keeps the document's): such commits are not sketch edits.
  // (An empty file counts as ending with one: a sketch's lines come with their newlines.)
  const endsWithNewline = (text: string) => text === '' || /\n$/.test(text);
  if (endsWithNewline(before) !== endsWithNewline(after)) return [];
  const hunks = diffTexts(before, after);
  if (hunks.length !== 1) return [];
  const hunk = hunks[0]!;
  if (hunk.oldEnd - hunk.oldStart > maxRegionLines || hunk.newEnd - hunk.newStart > maxRegionLines) return [];
  const newLines = splitLines(after);
  const cases: CorpusCase[] = [];
  for (const style of STYLES) {
    // Context counts lines with something on them: a model shows code around a change, not blank lines.
    let from = hunk.newStart;
    for (let seen = 0; from > 0 && seen < style.context; ) if (newLines[--from]!.trim() !== '') seen++;
    let to = hunk.newEnd;
    for (let seen = 0; to < newLines.length && seen < style.context; ) if (newLines[to++]!.trim() !== '') seen++;
    const shown = newLines.slice(from, to).map((line) => line.replace(/\r?\n$|\r$/, ''));
    const lines: string[] = [];
    const elidedBefore = from > 0;
    const elidedAfter = to < newLines.length;
    if (style.marker && elidedBefore) lines.push(style.marker(comment, indentOf(shown)));
    lines.push(...shown);
    if (style.marker && elidedAfter) lines.push(style.marker(comment, indentOf([...shown].reverse())));
    cases.push({ id, style: style.name, original: before, sketch: lines.join('\n') + '\n', expected: after });
  }
  return cases;
}
