// Rules that place a sketch by the context it shows when that context is not unique in the file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slideOntoContext } from '../../daemon/apply/context-shift.js';
import { mergeSketch, placeBetweenContexts } from '../../daemon/apply/index.js';

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

const cls = (name: string, beforeDispose: string) =>
  `class ${name} {\n  load() {\n    return read('${name}');\n  }\n${beforeDispose}  async dispose() {\n    this.worker = undefined;\n  }\n}\n`;
const stats = '  async stats() {\n    return this.worker.stats();\n  }\n\n';
const statsSketch = `  // ...\n  }\n\n${stats}  async dispose() {\n  // ...\n`;

test('both contexts: a run between markers with no unique line stands where its first and last lines are the smallest edit', () => {
  // Only class A has `}` right before `async dispose() {`; in B a comment stands between them.
  const doc = `${cls('A', '\n')}\n${cls('B', '\n  /** Frees the worker. */\n')}`;
  assert.equal(merged(doc, statsSketch), doc.replace('  }\n\n  async dispose', `  }\n\n${stats}  async dispose`));
  // Both classes fit equally well: refused as before.
  assert.equal(mergeSketch(`${cls('A', '\n')}\n${cls('B', '\n')}`, statsSketch).refusal?.kind, 'noAnchors');
});

test('both contexts: a line of the new code that is unique elsewhere does not hold the run there', () => {
  const doc = "class Model {\n  async clearCache(): Promise<void> {\n    if (!this.loading) return;\n    const worker = await this.ready();\n    await worker.call({ type: 'clearCache' });\n  }\n\n  async dispose(): Promise<void> {\n    this.worker = undefined;\n  }\n}\n\nclass Encoder {\n  load() {\n    this.loading = true;\n  }\n\n  /** Frees the session. */\n  async dispose(): Promise<void> {\n    this.session = undefined;\n  }\n}\n";
  // `const worker = await this.ready();` is unique in the file and anchors alone inside new code.
  const added = "  async cacheStats(): Promise<number> {\n    if (!this.loading) return 0;\n    const worker = await this.ready();\n    return worker.call({ type: 'cacheStats' });\n  }\n\n";
  assert.equal(merged(doc, `  // ...\n  }\n\n${added}  async dispose(): Promise<void> {\n  // ...\n`), doc.replace('  }\n\n  async dispose', `  }\n\n${added}  async dispose`));
});

test('both contexts: placement counts edits both ways and refuses where the two disagree', () => {
  const keys = (lines: string[]) => lines.map((line) => line.replace(/\s+/g, ''));
  const exact = (lines: string[]) => lines.map((line) => line.trimEnd());
  const place = (run: string[], doc: string[]) => {
    const placed = placeBetweenContexts(keys(run), exact(run), keys(doc), exact(doc));
    return placed && { start: placed.start, end: placed.end, cost: placed.cost };
  };
  // The run edits the middle line of the first block: the smallest edit however counted.
  const doc = ['});', "  check('alpha', 1);", '});', '  x();', '});', "  other('beta');", "  more('gamma');", '});'];
  const run = ['});', "  check('alpha', 2);", '});'];
  assert.deepEqual(place(run, doc), { start: 0, end: 3, cost: 1 });
  // An edit of one line against inserting it where `});` meets `});`: a tie, refused.
  assert.equal(place(run, ['});', "  check('alpha', 1);", '});', '});']), undefined);
  // Three lines edited around a kept one (an edit costs 3, as lines 6) against inserting four
  // lines where `});` meets `});` (4 either way): the counts disagree, so nothing is placed.
  const edited = ['});', "  check('alpha', 2);", '  keep();', "  check('beta', 2);", "  check('gamma', 2);", '});'];
  assert.equal(place(edited, ['});', "  check('alpha', 1);", '  keep();', "  check('beta', 1);", "  check('gamma', 1);", '});', '});']), undefined);
  // Where no insertion competes, the edit is placed.
  assert.deepEqual(place(edited, ['});', "  check('alpha', 1);", '  keep();', "  check('beta', 1);", "  check('gamma', 1);", '});', '  x();', '  y();', '});']), { start: 0, end: 6, cost: 3 });
  // More than 32 places within reach of the smallest edit (`});` meeting `});` all over a long
  // file): none is clear, and the scan stays cheap.
  const crowded = [...['});', "  check('alpha', 1);", '  keep();', '});'], ...Array.from({ length: 40 }, () => ['  x();', '});', '});']).flat()];
  const near = ['});', "  check('alpha', 2);", '  keep();', '});'];
  assert.deepEqual(place(near, crowded.slice(0, 7)), { start: 0, end: 4, cost: 1 });
  assert.equal(place(near, crowded), undefined);
  // Context lines match with their indentation only.
  const indented = ['  });', "  check('alpha', 1);", '  });'];
  assert.equal(place(run, indented), undefined);
});

test('both contexts: beside a unique line, the run replaces what it reworks, up to its repeated closing context', () => {
  const doc = 'def build(url):\n    path = url.path\n\n    if url.query:\n        sep = "?"\n        path += sep + url.query\n\n    self.app = app\n    return path\n\n\ndef other(app):\n    self.app = app\n';
  const sketch = '    # ...\n    if url.query:\n        path = f"{path}?{url.query}"\n\n    self.app = app\n    # ...\n';
  assert.equal(merged(doc, sketch), doc.replace('        sep = "?"\n        path += sep + url.query\n', '        path = f"{path}?{url.query}"\n'));
  // Nothing it removes resembles what it adds: it may as well be new code beside the unique line.
  const unrelated = mergeSketch(doc, sketch.replace('path = f"{path}?{url.query}"', 'log.debug("query given")'));
  assert.equal(unrelated.text, doc);
  assert.equal(unrelated.unresolved.length, 1);
});

test('whole file: a marker-less sketch with no anchor that edits every line one for one is the file rewritten', () => {
  assert.equal(merged('from flaskr import app\n', 'from .flaskr import app\n'), 'from .flaskr import app\n');
  assert.equal(merged('import os\r\nimport sys\r\n', 'import os  # noqa\r\nimport sys  # noqa\r\n'), 'import os  # noqa\r\nimport sys  # noqa\r\n');
  // A line that is no edit of its counterpart, or another number of lines: another file's code.
  assert.equal(mergeSketch('from flaskr import app\n', 'print(total)\n').refusal?.kind, 'noAnchors');
  assert.equal(mergeSketch('from flaskr import app\n', 'from .flaskr import app\napp.run()\n').refusal?.kind, 'noAnchors');
  // With markers, the sketch elides code: not a rewrite of the whole file.
  assert.equal(mergeSketch('from flaskr import app\n', '# ...\nfrom .flaskr import app\n').refusal?.kind, 'noAnchors');
});

test('edge: a run reaching the file\'s end is placed from there even when one of its new lines is unique elsewhere', () => {
  // `  assert.equal(` stands once in the file and anchors alone inside the new assertion.
  const doc = "test('render', () => {\n  assert.equal(\n    render({ count: 1 }),\n    'one item',\n  );\n});\n";
  const added = "  assert.equal(\n    render({ count: 2 }),\n    'two items',\n  );\n";
  assert.equal(merged(doc, `  // ...\n  );\n${added}});\n`), doc.replace('  );\n});', `  );\n${added}});`));
});

test('both contexts: a closing bracket beside the marker that closes the run\'s own block may be new code', () => {
  // A new test shown after one line of context and followed by a marker, no context after it:
  // its own `});` could be the file's `});` (replacing the second test) or new (an insertion).
  const doc = "test('first', () => {\n  const engine = makeEngine();\n  items.forEach((item) => {\n    engine.feed(item);\n  });\n  log('first done');\n});\n\ntest('second', () => {\n  const beta = 2;\n  assert.equal(beta, 2);\n});\n";
  const sketch = "// ...\n});\n\ntest('third', () => {\n  const gamma = makeGamma();\n  gamma.forEach((item) => {\n    engine.feed(item);\n  });\n  finish(gamma);\n});\n// ...\n";
  const result = mergeSketch(doc, sketch);
  assert.equal(result.text, doc);
  assert.ok(result.unresolved.length > 0 || result.refusal);
});

test('shown deletion: a sketch that inserts nothing deletes what it leaves out between two runs of context, repeated lines and all', () => {
  const doc = 'def test_a():\n    app = make_app()\n    assert app.ok\n\n\ndef test_b():\n    app = make_app()\n    assert app.ready\n\n\ndef test_c():\n    app = make_app()\n    assert app.done\n';
  // test_b's `app = make_app()` stands again in the context on both sides.
  const sketch = '# ...\ndef test_a():\n    app = make_app()\n    assert app.ok\n\n\ndef test_c():\n    app = make_app()\n    assert app.done\n';
  assert.equal(merged(doc, sketch), doc.replace('def test_b():\n    app = make_app()\n    assert app.ready\n\n\n', ''));
  // A sketch that also adds a line may be new code copying existing lines: flagged as before.
  const adding = mergeSketch(doc, sketch.replace('    assert app.done\n', '    assert app.done\n    app.close()\n'));
  assert.ok(adding.text.includes('def test_b():\n    app = make_app()\n    assert app.ready\n'), 'the deletion is not made');
  assert.match(adding.unresolved[0]!.message, /show some of them again as new code/);
  // A new line that is unique elsewhere (`rv.close()` of test_b) anchors there, and the context
  // after it would delete test_b's start; but that context, less the new line, is exactly what
  // stands where the deletion would begin: no deletion is shown, the lines are kept and flagged.
  const tries = 'def test_a(self):\n    try:\n        check(a)\n        self.assert_equal(cc, 1)\n    finally:\n        reset()\n\ndef test_b(self):\n    try:\n        check(b)\n        rv.close()\n    finally:\n        reset()\n';
  const closing = mergeSketch(tries, '...\n        check(a)\n        self.assert_equal(cc, 1)\n        rv.close()\n    finally:\n        reset()\n...\n');
  assert.equal(closing.text, tries);
  assert.match(closing.unresolved[0]!.message, /show some of them again as new code/);
});
