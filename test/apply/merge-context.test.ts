// Rules that place a sketch by the context it shows when that context is not unique in the file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slideOntoContext } from '../../daemon/apply/context-shift.js';
import { mergeSketch } from '../../daemon/apply/index.js';

const merged = (original: string, sketch: string) => {
  const result = mergeSketch(original, sketch);
  assert.equal(result.refusal, undefined, result.refusal?.message);
  assert.deepEqual(result.unresolved, []);
  return result.text;
};

const tests = "test('a', () => {\n  const rows = load('a');\n  assert.equal(count(rows), 1);\n});\n\ntest('b', () => {\n  const rows = load('b');\n  assert.equal(count(rows), 2);\n});\n";

test('slide: anchored lines the new block repeats slide back onto the context beside the marker', () => {
  const keys = ['// ...', '});', '', "test('c', () => {", '});', '', "test('b', () => {", '// ...'];
  const isMarker = keys.map((key) => key === '// ...');
  // Alignment gave the new block's own `});` and blank line to the document's (lines 3 and 4).
  const match = Int32Array.from([-1, -1, -1, -1, 3, 4, 5, -1]);
  assert.deepEqual([...slideOntoContext(keys, isMarker, match)!], [-1, 3, 4, -1, -1, -1, 5, -1]);
  // The mirror image: an anchored block, then new lines ending like it, then a marker.
  const after = ['// ...', "test('b', () => {", '});', "test('c', () => {", '});', '// ...'];
  const afterMatch = Int32Array.from([-1, 5, 8, -1, -1, -1]);
  assert.deepEqual([...slideOntoContext(after, after.map((key) => key === '// ...'), afterMatch)!], [-1, 5, -1, -1, 8, -1]);
  // Nothing to slide: the line beside the marker is not what the block starts with, or is
  // indented differently (another bracket), or nothing but the repeated lines would be left.
  assert.equal(slideOntoContext(['// ...', 'x();', "test('c', () => {", '});', '});', '// ...'], [true, false, false, false, false, true], Int32Array.from([-1, -1, -1, -1, 3, -1])), undefined);
  assert.equal(slideOntoContext(['// ...', '});', 'run();', '  });', '// ...'], [true, false, false, false, true], Int32Array.from([-1, -1, -1, 3, -1])), undefined);
  assert.equal(slideOntoContext(['// ...', '});', '});', '// ...'], [true, false, false, true], Int32Array.from([-1, -1, 3, -1])), undefined);
});

test('slide: a new test inserted after the one above it, shown with one line of context, is placed', () => {
  const added = "test('c', () => {\n  const rows = load('c');\n  assert.equal(count(rows), 3);\n});\n\n";
  const sketch = `// ...\n});\n\n${added}test('b', () => {\n// ...\n`;
  assert.equal(merged(tests, sketch), tests.replace("test('b'", `${added}test('b'`));
  // A sketch that places without sliding is unchanged by the rule (and gives the same text).
  assert.equal(merged(tests, `test('a', () => {\n// ...\n});\n\n${added}test('b', () => {\n// ...\n`), tests.replace("test('b'", `${added}test('b'`));
});

test('edge: a run whose only context is a bracket is appended after the file\'s own last bracket', () => {
  const added = "\ntest('c', () => {\n  const rows = load('c');\n});\n";
  assert.equal(merged(tests, `// ...\n});\n${added}`), tests + added);
  // The same bracket that is not the file's last line: placing there would remove lines, so it proves nothing.
  assert.equal(mergeSketch(`${tests}run();\n`, `// ...\n});\n${added}`).refusal?.kind, 'noAnchors');
  // Mirrored at the file's start.
  const block = "{\n  \"name\": \"demo\",\n  \"private\": true\n}\n";
  assert.equal(merged(block, `const header = 1;\n{\n// ...\n`), `const header = 1;\n${block}`);
});
