// Next-edit rules that mirror a declaration where its siblings are mirrored:
//   - a field added to an interface or type (`rotary?: boolean;`) is passed along where an object
//     passes its sibling fields one by one (`{ float16Io: options.float16Io ?? false }`);
//   - a property added to an object literal that spreads a base (`...generation,`) is added, at
//     the same place, to the other literals spreading that base.
// Each returns a Rule (see rule.ts) or undefined when the edit is not its kind. Pure.
import { leadingWhitespace } from '../text.js';
import { inStringOrComment, overlaps, proposal, type Rule } from './rule.js';

/** `name?: Type;`, `readonly name: Type`: a field of an interface, a type literal or a class. */
const FIELD = /^\s+(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*:[^=;]+;?$/;

/** Comment lines (doc comments included) and blank lines: what may surround an added field. */
const isCommentOrBlank = (line: string) => !line.trim() || /^\s*(?:\/\/|\/\*|\*)/.test(line);

/** The fields declared beside line `at` (same indentation, up to the block's edges), by name. */
function siblingFields(text: string, lineStart: number, indent: number): Set<string> {
  const out = new Set<string>();
  const visit = (line: string) => {
    if (isCommentOrBlank(line)) return true;
    if (leadingWhitespace(line).length !== indent) return false;
    const field = FIELD.exec(line);
    if (field) out.add(field[1]!);
    return true;
  };
  // Upwards, then downwards, line by line from the field's own line (the block is near).
  for (let end = lineStart - 1; end >= 0; ) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    if (!visit(text.slice(start, end))) break;
    end = start - 1;
  }
  for (let start = text.indexOf('\n', lineStart) + 1; start > 0 && start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (!visit(text.slice(start, end))) break;
    start = end + 1;
  }
  return out;
}

/** An object literal's entry that passes a field on: `name: source.name`, maybe `?? fallback`. */
const PASSED = /^\s*([A-Za-z_$][\w$]*)\s*:\s*([A-Za-z_$][\w$.]*?)\.([A-Za-z_$][\w$]*)(\s*\?\?\s*[^,]+?)?\s*$/;

/**
 * One field added to a declaration (comments around it allowed): one-line object literals whose
 * every entry passes a sibling field on from the same source (`{ a: options.a ?? false }`) pass
 * the new field on the same way, after the others.
 */
export function fieldMirrorRule(removed: readonly string[], added: readonly string[], editStart: number): Rule | undefined {
  // One field, with its doc comment: a few lines.
  if (added.length > 12 || removed.some((line) => line.trim())) return undefined;
  const fields = added.filter((line) => !isCommentOrBlank(line));
  const declared = fields.length === 1 ? FIELD.exec(fields[0]!) : null;
  if (!declared) return undefined;
  const name = declared[1]!;
  const indent = leadingWhitespace(fields[0]!).length;
  return (document, exclude) => {
    const text = document.text;
    const at = text.indexOf(`${fields[0]}\n`, editStart);
    if (at < 0) return [];
    const siblings = siblingFields(text, at, indent);
    siblings.delete(name);
    if (siblings.size === 0) return [];
    const out = [];
    for (const match of text.matchAll(/\{([^{}\n]*)\}/g)) {
      const start = match.index;
      if (overlaps(start, start + match[0].length, exclude)) continue;
      const entries = match[1]!.split(',').filter((entry, i, all) => entry.trim() || i < all.length - 1);
      const passed = entries.map((entry) => PASSED.exec(entry));
      if (passed.length === 0 || passed.some((entry) => !entry || entry[1] !== entry[3] || !siblings.has(entry[1]!) || entry[2] !== passed[0]![2])) continue;
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      const head = text.slice(lineStart, start);
      // A branch of a condition (`options.signal ? { signal: options.signal } : {}`) passes that
      // one field when set: it is about that field, not a list of them.
      if (inStringOrComment(head, head.length) || /\?\s*$/.test(head)) continue;
      const last = passed[passed.length - 1]!;
      const fallback = last[4] ? last[4].trim() : '';
      const at = start + 1 + match[1]!.trimEnd().replace(/,$/, '').length;
      out.push(proposal(document, [{ start: at, end: at, newText: `, ${name}: ${last[2]}.${name}${fallback ? ` ${fallback}` : ''}` }], `pass ${name} beside ${last[1]}`));
    }
    return out;
  };
}

/** `key: value,` on a line of its own: a property written into a multi-line object literal. */
const PROPERTY_LINE = /^\s*([A-Za-z_$][\w$]*)\s*:\s*(.+?),?\s*$/;

/**
 * A property added to an object literal that spreads a common base (`...generation,` above it):
 * the other object literals spreading the same base, without that property, get it too, after
 * the spread (`{ ...generation, prompt, stop }`): options built from one base for sibling calls.
 */
export function spreadSiblingRule(removed: readonly string[], added: readonly string[], editStart: number): Rule | undefined {
  if (added.length > 3 || removed.some((line) => line.trim())) return undefined;
  const code = added.filter((line) => !isCommentOrBlank(line));
  const property = code.length === 1 ? PROPERTY_LINE.exec(code[0]!) : null;
  if (!property || /[{}]/.test(property[2]!.replace(/\{[^{}]*\}/g, ''))) return undefined;
  const [, key, value] = property;
  return (document, exclude) => {
    const text = document.text;
    // The literal's spread: the nearest `...base,` line above the edit, in the same literal (same indentation).
    const indent = leadingWhitespace(code[0]!).length;
    let base: string | undefined;
    // How many entries stand between the spread and the new property: the same place in the others.
    let before = 0;
    for (let end = editStart - 1, lines = 0; end > 0 && lines < 30; lines++) {
      const start = text.lastIndexOf('\n', end - 1) + 1;
      const line = text.slice(start, end);
      if (line.trim() && leadingWhitespace(line).length < indent) break;
      const spread = /^\s*\.\.\.([A-Za-z_$][\w$.]*),\s*$/.exec(line);
      if (spread && leadingWhitespace(line).length === indent) {
        base = spread[1];
        break;
      }
      if (line.trim() && leadingWhitespace(line).length === indent) before++;
      end = start - 1;
    }
    if (!base) return [];
    const out = [];
    const pattern = new RegExp(`\\{\\s*\\.\\.\\.${base.replace(/[.$]/g, (c) => `\\${c}`)}\\s*,([^{}\\n]*)\\}`, 'g');
    for (const match of text.matchAll(pattern)) {
      const start = match.index;
      if (overlaps(start, start + match[0].length, exclude)) continue;
      if (new RegExp(`(?:^|,)\\s*${key}\\s*[:,}]|(?:^|,)\\s*${key}\\s*$`).test(match[1]!)) continue;
      // After the spread and as many entries as stood before it in the edited literal.
      const commas = topLevelCommas(match[1]!);
      const bodyStart = start + match[0].indexOf(',') + 1;
      if (before > commas.length + 1) continue;
      // Entry `before` starts after comma `before - 1` (the spread's own comma for the first).
      const inside = before <= commas.length;
      const at = !inside ? bodyStart + match[1]!.trimEnd().length : before === 0 ? bodyStart : bodyStart + commas[before - 1]! + 1;
      const newText = inside ? ` ${key}: ${value},` : `, ${key}: ${value}`;
      out.push(proposal(document, [{ start: at, end: at, newText }], `spread ${key} beside ...${base}`));
    }
    return out;
  };
}

/** Offsets of the commas that separate a literal's entries (outside brackets and strings). */
function topLevelCommas(body: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') depth--;
    else if (char === ',' && depth === 0) out.push(i);
  }
  return out;
}
