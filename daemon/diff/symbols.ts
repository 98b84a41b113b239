// Names a piece of code defines and names it uses, by light lexical rules that hold across the
// common languages (C-family, Python, Ruby, Go, Rust, Lua, shell). Good enough to order hunks for
// reading; nothing depends on it being complete.

const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

const DEFINITION_PATTERNS: RegExp[] = [
  // function f / def f / class C / struct S / fn f / func f / type T / interface I / enum E ...
  /\b(?:function\*?|def|class|struct|union|enum|interface|trait|type|typedef|fn|func|module|namespace|object|record|impl|macro|defun|defmacro|defvar|local\s+function|sub|proc)\s+([A-Za-z_$][\w$]*)/g,
  // const x = / let x = / var x = / val x = at the start of a statement (not loop variables)
  /^\s*(?:export\s+)?(?:const|let|var|val|static|export\s+default)\s+(?:mut\s+)?([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=/gm,
  // Go: func (r *T) Name(
  /\bfunc\s*\([^)]*\)\s*([A-Za-z_$][\w$]*)/g,
  // methods and C-like functions at the start of a line: name(args) { / name(args): / -> T {
  /^\s*(?:(?:public|private|protected|static|async|override|readonly|export|virtual|inline|final|abstract)\s+)*([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\([^)]*\)\s*(?::[^={]*)?\{/gm,
  // name = (...) => / name = function / name: function
  /([A-Za-z_$][\w$]*)\s*[:=]\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)/g,
];

const KEYWORDS = new Set(
  ('if else for while do switch case return function def class const let var new this self super true false null ' +
    'undefined None True False import export from as in of is not and or try catch finally throw raise with yield ' +
    'await async static public private protected void int float double bool char string fn func pub mut impl use ' +
    'type interface enum struct package end then elif local nil lambda pass break continue default extends implements')
    .split(' '),
);

/** Names the text defines. */
export function definedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const pattern of DEFINITION_PATTERNS) {
    pattern.lastIndex = 0;
    for (const match of text.matchAll(pattern)) {
      const name = match[1];
      if (name && !KEYWORDS.has(name)) names.add(name);
    }
  }
  return names;
}

/** Identifiers the text mentions (keywords excluded). */
export function usedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) if (!KEYWORDS.has(match[0])) names.add(match[0]);
  return names;
}

/** Tokens for comparing two versions of code: identifiers, numbers, and single other characters; whitespace dropped. */
export function codeTokens(text: string): string[] {
  return text.match(/[A-Za-z_$][\w$]*|\d[\w.]*|\S/g) ?? [];
}

export function isIdentifier(token: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(token) && !KEYWORDS.has(token);
}
