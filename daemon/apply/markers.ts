// Elision markers: the lines a sketch uses to stand for unchanged code. Models write them in the
// comment syntax of whatever language they are editing (`// ... existing code ...`,
// `# ... rest unchanged`, `<!-- ... -->`, `{/* ... */}`, `-- ...`) or as a bare `...`.

// Block-comment wrappers, outermost first.
const BLOCK_COMMENTS: Array<[RegExp, RegExp]> = [
  [/^\{\s*\/\*+/, /\*+\/\s*\}$/], // JSX {/* ... */}
  [/^\/\*+/, /\*+\/$/],
  [/^<!--/, /-->$/],
  [/^\(\*/, /\*\)$/], // OCaml, Pascal
  [/^\{-/, /-\}$/], // Haskell
  [/^--\[\[/, /\]\]$/], // Lua
  [/^"""/, /"""$/],
  [/^'''/, /'''$/],
  [/^\{/, /\}$/], // Pascal { ... }, and `{ ... }` placeholders
];

const LINE_COMMENT = /^(?:\/\/+!?|#+|--+|;+|%+|REM\b)\s?/i;

const ELLIPSIS = /\.{3,}|…/;
const STARTS_WITH_ELLIPSIS = /^(?:\.{3,}|…)/;
// Words models use around elisions when they do not write an ellipsis.
const ELISION_WORDS =
  /\b(?:existing|unchanged|remain(?:s|ing|der)?|rest of|omitted|same as (?:before|above|original)|as before|previous (?:code|content|implementation)|other (?:code|methods|functions|fields|imports|cases|tests|properties)|keep(?:s|ing)? (?:the )?(?:rest|existing|original|as is)|no changes?|not shown|elided|snip)\b/i;
// Comments that merely carry an ellipsis inside prose ("wait..."): the ellipsis must start the body,
// or the body must use one of the words above.

function stripComment(text: string): string | undefined {
  let body = text.trim();
  let stripped = false;
  for (let round = 0; round < 2; round++) {
    let changed = false;
    for (const [open, close] of BLOCK_COMMENTS) {
      if (open.test(body) && close.test(body)) {
        const next = body.replace(open, '').replace(close, '').trim();
        if (next !== body) {
          body = next;
          changed = stripped = true;
          break;
        }
      }
    }
    if (!changed) {
      const match = LINE_COMMENT.exec(body);
      if (match && match[0].length > 0) {
        body = body.slice(match[0].length).trim();
        stripped = true;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return stripped ? body : undefined;
}

/** The line, on its own, says "unchanged code goes here". */
export function looksLikeElision(line: string): boolean {
  const text = line.trim();
  if (text.length === 0 || text.length > 160) return false;
  if (/^(?:\.{3,}|…)$/.test(text)) return true;
  const body = stripComment(text);
  if (body === undefined) return false;
  if (body.length === 0) return false;
  if (STARTS_WITH_ELLIPSIS.test(body)) return true;
  if (ELLIPSIS.test(body) && ELISION_WORDS.test(body)) return true;
  // Without an ellipsis, only short prose that names the elision ("// existing code", "# rest unchanged").
  return ELISION_WORDS.test(body) && body.length <= 80 && !/[=;{}]|\w\(/.test(body.replace(/\w+\(\)/g, ''));
}

/** True when the text holds a marker-looking line that `original` does not contain. */
export function leakedMarkers(result: string, original: string): string[] {
  const originalLines = new Set(original.split(/\r\n|\r|\n/).map((line) => line.trim()));
  return result
    .split(/\r\n|\r|\n/)
    .filter((line) => looksLikeElision(line) && !originalLines.has(line.trim()))
    .map((line) => line.trim());
}
