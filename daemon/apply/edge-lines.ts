// Whether lines at a file's edge that a sketch does not show can be taken as deleted. A sketch
// that marks elided code elsewhere but not at one end means that end literally, so the lines
// beyond its last anchor there are deleted: a header comment, a stale `if __name__` block. A
// model that merely forgot the marker shows the same thing, though, so the deletion is made only
// when it is short and removes no import or definition (what a sketch that starts at the function
// it changes leaves out). Pure.

/** Non-blank lines an unshown edge may lose; beyond it the lines are kept and reported. */
export const MAX_UNSHOWN_EDGE_LINES = 10;

const DEFINITION = /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:def|class|function\*?|fn|func|struct|enum|interface|type|const|let|var|local)\s+([A-Za-z_$][\w$]*)/;
const PYTHON_IMPORT = /^\s*import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)/;
const FROM_IMPORT = /^\s*from\s+\S+\s+import\s+\(?([^)#]*)/;
const JS_IMPORT = /^\s*import\s+(?:type\s+)?(.+?)\s+from\s/;
const ASSIGNMENT = /^([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=[^=]/;

/** Names the lines define: definitions, imports, top-level assignments. */
export function definedNames(lines: readonly string[]): Set<string> {
  const names = new Set<string>();
  const addList = (list: string) => {
    for (const part of list.split(',')) {
      const words = part.replace(/[{}*]/g, ' ').trim().split(/\s+/).filter(Boolean);
      // `a as b` defines b; `pkg.mod` defines pkg (how Python names it afterwards).
      const name = words.length >= 3 && words[1] === 'as' ? words[2]! : words[0];
      if (name) names.add(name.split('.')[0]!);
    }
  };
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = DEFINITION.exec(line))) names.add(m[1]!);
    else if ((m = FROM_IMPORT.exec(line))) addList(m[1]!);
    else if ((m = JS_IMPORT.exec(line))) addList(m[1]!);
    else if ((m = PYTHON_IMPORT.exec(line))) addList(m[1]!);
    else if ((m = ASSIGNMENT.exec(line))) names.add(m[1]!);
  }
  return names;
}

/** Whether deleting `lines`, unshown at a file's edge, is a plausible edge deletion. */
export function edgeDeletionIsSafe(lines: readonly string[]): boolean {
  if (lines.filter((line) => line.trim() !== '').length > MAX_UNSHOWN_EDGE_LINES) return false;
  // Imports and definitions are what a forgotten marker usually hides (a sketch starting at the
  // function it changes); they are never dropped this way, used or not.
  return definedNames(lines).size === 0;
}
