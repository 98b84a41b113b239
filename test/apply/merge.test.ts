import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { closesOutside, leakedMarkers, looksLikeElision, maxSimilarity, mergeSketch, placeRunByContext, profile, profileSimilarity, squash } from '../../daemon/apply/index.js';

const pick = (placement: ReturnType<typeof placeRunByContext>) => placement && { start: placement.start, end: placement.end, cost: placement.cost, regions: placement.regions };

const store = `import a from 'a';
import b from 'b';

export class Store {
  constructor() {
    this.items = [];
  }

  add(item) {
    this.items.push(item);
  }

  remove(item) {
    this.items = this.items.filter((x) => x !== item);
  }
}
`;

const merged = (original: string, sketch: string) => {
  const result = mergeSketch(original, sketch);
  assert.equal(result.refusal, undefined, result.refusal?.message);
  assert.deepEqual(result.unresolved, []);
  return result.text;
};

test('elision markers are recognised in many comment syntaxes, prose and code are not', () => {
  for (const line of [
    '// ... existing code ...',
    '    // ...',
    '# ... rest of the file unchanged',
    '/* ... */',
    '<!-- ... existing markup ... -->',
    '{/* ... */}',
    '-- ...',
    '; ... existing code',
    '...',
    '…',
    '// existing code',
    '# rest unchanged',
    '(* ... *)',
    '// ... rest of handleRequest() ...',
  ]) {
    assert.ok(looksLikeElision(line), line);
  }
  for (const line of ['// TODO: fix this...', 'const rest = [...items];', 'foo(...args)', '// compute the total', '#include <stdio.h>', '', '{}', 'print("...")']) {
    assert.ok(!looksLikeElision(line), line);
  }
});

test('a new method after an anchored one is inserted, the rest kept', () => {
  const text = merged(store, `// ... existing code ...
  add(item) {
    this.items.push(item);
  }

  clear() {
    this.items = [];
  }

// ... existing code ...`);
  assert.equal(text, store.replace('  remove(item)', '  clear() {\n    this.items = [];\n  }\n\n  remove(item)'));
});

test('a fragment without markers changes only what it shows (its ends are elided implicitly)', () => {
  const text = merged(store, `  add(item) {
    if (!item) return;
    this.items.push(item);
  }`);
  assert.equal(text, store.replace('  add(item) {\n', '  add(item) {\n    if (!item) return;\n'));
});

test('a modified line next to a marker replaces the line it modifies', () => {
  const text = merged(store, `// ... existing code ...
export class Store {
  // ... existing code ...
  remove(item) {
    this.items = this.items.filter((x) => x.id !== item.id);
  }
}`);
  assert.equal(text, store.replace('(x) => x !== item', '(x) => x.id !== item.id'));
});

test('a marker-using sketch that does not show the top of the file keeps it and says so', () => {
  const result = mergeSketch(store, `export class Store {
  // ... existing code ...
  remove(item) {
    this.items = this.items.filter((x) => x.id !== item.id);
  }
}`);
  assert.equal(result.text, store.replace('(x) => x !== item', '(x) => x.id !== item.id'));
  assert.equal(result.unresolved.length, 1);
  assert.equal(result.unresolved[0]!.kind, 'ambiguous');
  assert.match(result.unresolved[0]!.message, /lines 1-3 at its start.*they were kept/);
});

test('lines left out between two anchors are deleted (explicit deletion)', () => {
  const text = merged(store, `// ... existing code ...
    this.items = [];
  }

  remove(item) {
// ... existing code ...`);
  assert.equal(text, store.replace('  add(item) {\n    this.items.push(item);\n  }\n\n', ''));
});

test('a whole-file sketch without markers is taken literally, including deleted first lines', () => {
  const sketch = store.replace("import a from 'a';\n", '').replace('this.items = [];', 'this.items = new Set();');
  assert.equal(merged(store, sketch), sketch);
});

test('code floating between two markers is unresolved with the nearest lines, and nothing else moves', () => {
  const result = mergeSketch(store, `// ... existing code ...
  add(item) {
    this.items.push(item);
  }
// ...
    console.log('removing', item);
// ...
}`);
  assert.equal(result.refusal, undefined);
  assert.equal(result.unresolved.length, 1);
  const [region] = result.unresolved;
  assert.equal(region!.kind, 'unanchored');
  assert.equal(region!.text, "    console.log('removing', item);");
  assert.equal(region!.sketchStart, 5);
  assert.match(region!.message, /between two elision markers/);
  assert.equal(result.text, store);
});

test('a changed line that resembles one deep inside the elided region is ambiguous, not guessed', () => {
  const original = 'function f() {\n  const a = compute(1);\n  const b = compute(2);\n  const c = compute(3);\n  return a + b + c;\n}\n';
  const result = mergeSketch(original, 'function f() {\n  // ... existing code ...\n  const b = compute(20);\n  // ...\n}\n');
  assert.equal(result.unresolved.length, 1);
  assert.equal(result.unresolved[0]!.kind, 'unanchored');
  assert.ok(result.unresolved[0]!.nearest.some((near) => near.text.includes('compute(2)')));
  const boundary = mergeSketch(original, 'function f() {\n  // ... existing code ...\n  const b2 = compute(2);\n  return a + b + c;\n}\n');
  assert.equal(boundary.unresolved[0]?.kind, 'ambiguous', 'could be new, or a change to `const b = compute(2)`');
  assert.equal(boundary.text, original);
});

test('a sketch whose merge changes nothing is flagged (a deletion the elided code could explain), unless it is the document', () => {
  const config = '[lint]\nselect = [\n    "E",\n]\nignore = [\n    "UP038",\n]\n\n[lint.isort]\nknown = ["app"]\n';
  // Meant: delete the `ignore` list. Shown with one line of context, the `]` before the blank line
  // is also the last line of `ignore`, so the sketch reads just as well as "nothing changes".
  const result = mergeSketch(config, '# ...\n]\n\n[lint.isort]\n# ...\n');
  assert.equal(result.text, config);
  assert.equal(result.unresolved.length, 1);
  assert.match(result.unresolved[0]!.message, /changes nothing/);
  assert.ok(result.unresolved[0]!.nearest.length > 0);
  // The document itself, or the document with different trailing spaces, is no change and says nothing.
  assert.deepEqual(mergeSketch(config, config).unresolved, []);
  assert.deepEqual(mergeSketch(store, store.replace('import b from \'b\';', 'import b from \'b\';   ')).unresolved, []);
  // A real change next to the same lines merges as before.
  assert.equal(merged(config, '# ...\n]\n\n[lint.isort]\nknown = ["app", "lib"]\n'), config.replace('["app"]', '["app", "lib"]'));
});

test('a big deletion beside a short run of anchors inside new code (copied lines) is flagged; beside context it is made', () => {
  const tests = [
    "test('first', () => {",
    '  const engine = makeEngine();',
    '  items.forEach((item) => {',
    '    engine.feed(item);',
    '  });',
    '  assert.equal(engine.count, 3);',
    '  engine.flush();',
    '  engine.close();',
    "  log('first done');",
    '});',
    '',
    "test('second', () => {",
    '  const beta = 2;',
    '  assert.equal(beta, 2);',
    '});',
    '',
  ].join('\n');
  // A new test at the end copies two lines of the first one (one with letters, one without):
  // they anchor there, and everything from there to the end would be deleted.
  const sketch = [
    '// ...',
    '});',
    '',
    "test('third', () => {",
    '  const gamma = makeGamma();',
    '  gamma.forEach((item) => {',
    '    engine.feed(item);',
    '  });',
    '  finish(gamma);',
    '});',
    '',
  ].join('\n');
  // (The file goes on after the second test, so the sketch's end is not placed from the file's end.)
  const result = mergeSketch(`${tests}run();\n`, sketch);
  assert.ok(result.unresolved.some((region) => /surrounded by new code/.test(region.message)), 'flagged');
  assert.ok(result.text.includes("test('second'"), 'nothing deleted');
  // Where the file ends with the second test, the new test is appended after it (placed from the
  // file's end past the copied lines: merge-context.test.ts).
  assert.equal(merged(tests, sketch), tests + sketch.split('\n').slice(2).join('\n'));
  // The same short anchors next to markers are context: the deletion between them is made.
  const context = "// ...\n    engine.feed(item);\n  });\n});\n\ntest('second', () => {\n// ...\n";
  assert.equal(merged(tests, context), tests.replace("  assert.equal(engine.count, 3);\n  engine.flush();\n  engine.close();\n  log('first done');\n", ''));
});

test('the length bound used to skip lines is never below the real similarity (property)', () => {
  const line = fc.array(fc.constantFrom('a', 'b', 'c', ' ', '(', ')', 'ab', '\t', 'é'), { maxLength: 30 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(line, line, (a, b) => {
      const bound = maxSimilarity(profile(a), squash(b));
      assert.ok(bound >= profileSimilarity(profile(a), profile(b)), `${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }),
    { numRuns: 2000 },
  );
});

test('new lines beside a marker that close something the document opened (`]`, `"""`) are ambiguous', () => {
  const toml = '[pytest]\nfilterwarnings = [\n    "error",\n    # a comment\n    "ignore:ast:DeprecationWarning",\n]\n\n[coverage]\nbranch = true\n';
  // Meant: delete the two lines before `]`; read literally, a second `]` would be inserted after "error".
  const result = mergeSketch(toml, '# ...\n    "error",\n]\n# ...\n');
  assert.equal(result.text, toml);
  assert.equal(result.unresolved.length, 1);
  const python = 'def f():\n    """Run it.\n\n    More words here.\n    """\n    return 1\n';
  assert.equal(mergeSketch(python, '# ...\n    """Run it.\n    """\n# ...\n').unresolved.length, 1);
  // A new block that closes what it opens is placed as before.
  assert.equal(merged(store, '// ...\n  add(item) {\n    this.items.push(item);\n  }\n\n  clear() {\n    this.items = [];\n  }\n\n  remove(item) {\n// ...\n'), store.replace('  remove(item)', '  clear() {\n    this.items = [];\n  }\n\n  remove(item)'));
  assert.equal(closesOutside(['  ]']), true);
  assert.equal(closesOutside(['    """']), true);
  assert.equal(closesOutside(['f(x) {', '  g("]");', '}']), false);
  assert.equal(closesOutside(['x = """doc"""']), false);
});

test('a line beside a marker that the sketch re-indents (wrapped in a new block) keeps the new indentation', () => {
  const source = "function token(url) {\n  if (!url) return undefined;\n  return parse(url).get('token') ?? undefined;\n}\n\nfunction other() {}\n";
  const sketch = "// ...\n  if (!url) return undefined;\n  try {\n    return parse(url).get('token') ?? undefined;\n  } catch {\n    return undefined;\n  }\n}\n// ...\n";
  assert.equal(merged(source, sketch), source.replace("  return parse(url).get('token') ?? undefined;\n", "  try {\n    return parse(url).get('token') ?? undefined;\n  } catch {\n    return undefined;\n  }\n"));
});

test('a deletion whose lines come back as new code elsewhere (a new block copying existing lines) is flagged', () => {
  // The new test copies setup lines of the one above; they anchor to their originals, and the
  // lines between would be deleted while copies of them are inserted.
  const source = `def test_notice_event():
    server = make_server("notice")
    server.settings["KEY"] = "value"

    @server.handler("/")
    def home():
        server.notify("Saved the draft", level="notice")
        return server.redirect("/elsewhere")

    seen = []

    def listener(origin, text, level):
        seen.append((text, level))

    events.notice_sent.subscribe(listener, server)
    try:
        session = server.session()
        with session.transaction():
            session.fetch("/")
            assert len(seen) == 1
            text, level = seen[0]
            assert text == "Saved the draft"
            assert level == "notice"
    finally:
        events.notice_sent.unsubscribe(listener, server)
`;
  const sketch = `        # ...
        events.notice_sent.unsubscribe(listener, server)

def test_shutdown_event():
    server = make_server("notice")
    seen = []

    def on_shutdown(origin, **extra):
        seen.append(("shutdown", extra))

    @server.handler("/")
    def home():
        1 // 0

    events.shutdown.subscribe(on_shutdown, server)
    try:
        with server.session() as session:
            answer = session.fetch("/")
            assert answer.status == 500
            assert seen == []
        assert seen == [("shutdown", {"error": None})]
    finally:
        events.shutdown.unsubscribe(on_shutdown, server)
`;
  // (The file goes on after the test, so the sketch's end is not placed from the file's end.)
  const result = mergeSketch(`${source}\n\ndef test_last():\n    pass\n`, sketch);
  assert.ok(result.unresolved.some((region) => /show some of them again as new code/.test(region.message)), JSON.stringify(result.unresolved));
  assert.ok(result.text.includes('events.notice_sent.subscribe(listener, server)'), 'the deleted lines are kept');
  // Where the file ends with that test, the new one is appended after it.
  assert.equal(merged(source, sketch), source + sketch.split('\n').slice(2).join('\n'));
});

test('a fragment without markers that ends (or starts) with new code pairing with nothing beyond it is ambiguous', () => {
  const config = '[project]\nname = "demo"\nversion = "1.0"\ndescription = "A demo"\nlicense = "MIT"\nreadme = "README.md"\n\n[build]\nbackend = "setuptools"\nrequires = ["setuptools"]\n';
  // Replace the build section's two lines and add a section: or keep them after the new lines?
  const result = mergeSketch(config, 'readme = "README.md"\n\n[build]\nbackend = "flit"\n\n[tool]\nname = "app"\n');
  assert.equal(result.text, config);
  assert.equal(result.unresolved.length, 1);
  assert.match(result.unresolved[0]!.message, /ends with new code/);
  // Ending on a line that pairs with the document (a visible modification) is placed as before.
  assert.equal(merged(config, '[build]\nbackend = "setuptools"\nrequires = ["setuptools>=70"]\n'), config.replace('["setuptools"]', '["setuptools>=70"]'));
});

test('a deletion of lines that the sketch shows as context elsewhere (a new test like its neighbour) is flagged', () => {
  // The sketch starts on the tail shared by both existing tests and adds a third like the second:
  // read with the second test's lines anchored into the new one, the second test would be deleted.
  const source = `def test_one():
    events = []
    hub = make_hub()
    hub.on_close(events.append)
    with hub.open():
        pass
    assert events == [None]

def test_two():
    events = []
    hub = make_hub()
    hub.on_close(events.append)
    try:
        raise ValueError("x")
    except ValueError:
        pass
    with hub.open():
        pass
    assert events == [None]

def test_globals():
    hub = make_hub()
    assert hub.globals == {}
`;
  const sketch = `# ...
        pass
    assert events == [None]

def test_three():
    events = []
    hub = make_hub()
    hub.on_close(events.append)
    with hub.open():
        try:
            raise ValueError("x")
        except ValueError:
            pass
    assert events == [None]

def test_globals():
    hub = make_hub()
# ...
`;
  const result = mergeSketch(source, sketch);
  assert.ok(result.unresolved.some((region) => /show some of them again/.test(region.message)), JSON.stringify(result.unresolved));
  assert.ok(result.text.includes('def test_two():'), 'the second test is kept');
});

test('a run beside a marker is placed by the context line it shows, even when that line is not unique', () => {
  // Every test ends with the same assert, and the new test's first line resembles its
  // neighbour's: the assert shown beside the marker pins the new test after `test_map`.
  const tests = 'def test_list(client):\n    rv = client.get("/list")\n    assert rv.status_code == 200\n\n\ndef test_map(client):\n    rv = client.get("/map")\n    assert rv.status_code == 200\n\n\ndef test_print(client):\n    rv = client.get("/print")\n    assert rv.data == b"1"\n';
  const added = 'def test_map_keys(client):\n    keys = list(client.get_json("/map"))\n    assert keys == ["a"]\n\n\n';
  assert.equal(merged(tests, `# ...\n    assert rv.status_code == 200\n\n\n${added}def test_print(client):\n# ...\n`), tests.replace('def test_print', `${added}def test_print`));
  // Context lines repeated elsewhere: their nearest occurrence before the anchor, and the line the
  // sketch leaves out between them and the anchor (no marker there) is deleted.
  const py = 'def test_a(app):\n    rv = app.get("/")\n    assert rv.status_code == 200\n\n\ndef test_b(app):\n    rv = app.get("/")\n    assert rv.status_code == 200\n\n\n@pytest.mark.skip\ndef test_c(app):\n    pass\n';
  assert.equal(merged(py, '# ...\n    rv = app.get("/")\n    assert rv.status_code == 200\n\n\ndef test_c(app):\n    pass\n'), py.replace('@pytest.mark.skip\n', ''));
});

test('context placement: the smallest edit wins, unless another place explains the run as fewer separate changes', () => {
  const doc = ['defcheck(f):', 'try:', "f('/etc/passwd')", 'exceptNotFound:', 'pass', 'else:', 'assert0', 'try:', "f('../x')", 'exceptNotFound:', 'pass', 'else:', 'assert0'];
  // A changed copy of the second try block, shown after the first block's tail: reusing the
  // second block's lines is the smaller edit and one change.
  const changed = ['pass', 'else:', 'assert0', 'try:', "f('..\\x')", 'exceptNotFound:', 'pass', 'else:', 'assert0'];
  assert.deepEqual(pick(placeRunByContext(changed, doc, 1, 13, 'before')), { start: 4, end: 13, cost: 2, regions: 1 });
  // With a new line before it, that reading is two changes, while inserting the whole block after
  // the second try is one: new code that repeats its neighbour's lines is not folded into them.
  const inserted = ['pass', 'else:', 'assert0', 'importos', 'try:', "f('..\\x')", 'exceptNotFound:', 'pass', 'else:', 'assert0'];
  assert.equal(placeRunByContext(inserted, doc, 1, 13, 'before'), undefined);
  // Mirrored for a run after an anchor, and no context beside the marker means no placement.
  assert.deepEqual(pick(placeRunByContext(['try:', "f('/etc/passwd')", 'exceptNotFound:', 'pass', 'log(e)', 'else:'], doc, 1, 13, 'after')), { start: 1, end: 6, cost: 1, regions: 1 });
  assert.equal(placeRunByContext(['newline()', 'pass'], doc, 1, 13, 'before'), undefined);
});

test('a sketch with no unique line is placed by its context: from the file edge, or around a clear edit of one line', () => {
  // Every line the sketch shows occurs twice; it ends at the file's end (no marker there).
  const tests = "test('a', () => {\n  assert.equal(count(), 1);\n});\n\ntest('b', () => {\n  assert.equal(count(), 1);\n});\n";
  const added = "\ntest('c', () => {\n  assert.equal(count(), 2);\n});\n";
  assert.equal(merged(tests, `// ...\n  assert.equal(count(), 1);\n});\n${added}`), tests + added);
  // Between two markers, only brackets besides a changed line: the changed line is a clear edit of
  // exactly one document line, and the brackets around it are the ones beside that line.
  const env = 'export function makeEnv(dir) {\n  return {\n    write: () => {\n      save(dir);\n    },\n    cleanup: () => rmSync(dir, { recursive: true }),\n  };\n}\n';
  const sketch = '// ...\n    },\n    // Retried: late writes may land while the folder is removed.\n    cleanup: () => rmSync(dir, { recursive: true, maxRetries: 10 }),\n  };\n// ...\n';
  assert.equal(merged(env, sketch), env.replace('    cleanup: () => rmSync(dir, { recursive: true }),\n', '    // Retried: late writes may land while the folder is removed.\n    cleanup: () => rmSync(dir, { recursive: true, maxRetries: 10 }),\n'));
  // Two changed lines: the one placed by similarity, the other an edit of the line beside it.
  const server = 'export function makeEnv(dir) {\n  return {\n    write: () => {\n      save(dir);\n    },\n    cleanup: () => rmSync(dir, { recursive: true }),\n    close: () => server.close(),\n  };\n}\n';
  const both = '    cleanup: () => rmSync(dir, { recursive: true, maxRetries: 10 }),\n    close: () => server.close(done),\n';
  assert.equal(merged(server, `// ...\n    },\n${both}  };\n// ...\n`), server.replace('    cleanup: () => rmSync(dir, { recursive: true }),\n    close: () => server.close(),\n', both));
  // Only brackets on the file-edge side place the run only where they are the file's own edge
  // line (the run then adds code beyond it and removes nothing); elsewhere they prove nothing.
  assert.equal(merged(tests, '// ...\n});\n\ntest(\'c\', () => {\n});\n'), tests + "\ntest('c', () => {\n});\n");
  assert.equal(mergeSketch(tests + 'run();\n', '// ...\n});\n\ntest(\'c\', () => {\n});\n').refusal?.kind, 'noAnchors');
});

test('a changed line between its anchor and a repeated context line is a change, not an insertion', () => {
  const workflow = '  steps:\n    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n    - uses: astral-sh/setup-uv@6b9c6063abd6010835644d4c2e1bef4cf5cd0fca # v6.0.1\n      with:\n        enable-cache: true\n    - uses: actions/cache@v3\n      with:\n        path: x\n';
  const bumped = '    - uses: astral-sh/setup-uv@f0ec1fc3b38f5e7cd731bb6ce540c5af426746bb # v6.1.0\n';
  // `with:` stands twice, so only the checkout line anchors; read as an insertion, the sketch would
  // repeat the `with:` right below it. Replacing the line between them is the reading that fits.
  const sketch = `      # ...\n    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n${bumped}      with:\n      # ...\n`;
  assert.equal(merged(workflow, sketch), workflow.replace(/ {4}- uses: astral-sh.*\n/, bumped));
  // A line that is no edit of the one it would replace is not taken for one.
  const other = mergeSketch(workflow, sketch.replace(bumped, '    - uses: docker/login-action@v3\n'));
  assert.equal(other.text, workflow);
  assert.equal(other.unresolved.length, 1);
});

test('short unshown lines at the edge of a marker-using sketch are deleted unless they import or define something', () => {
  const module = '# -*- coding: utf-8 -*-\n"""\n    demo\n    ~~~~\n"""\nimport os\n\n\ndef main():\n    return os.getcwd()\n';
  assert.equal(merged(module, 'import os\n\n\ndef main():\n# ... existing code ...\n'), module.replace('# -*- coding: utf-8 -*-\n"""\n    demo\n    ~~~~\n"""\n', ''));
  // The same at the end; an import left out at the start is kept and reported.
  const withMain = module + '\n\nif __name__ == "__main__":\n    main()\n';
  assert.equal(merged(withMain, '# ...\ndef main():\n    return os.getcwd()\n'), module);
  const imports = 'import os\nimport sys\n\n\ndef main():\n    return os.getcwd()\n';
  const result = mergeSketch(imports, 'def main():\n    return os.getcwd() or sys.argv[0]\n# ...\n');
  assert.equal(result.text, imports.replace('os.getcwd()', 'os.getcwd() or sys.argv[0]'));
  assert.match(result.unresolved[0]!.message, /at its start.*they were kept/);
  // Long unshown edges are kept whatever they hold.
  const long = Array.from({ length: 12 }, (_, i) => `# note ${i}`).join('\n') + '\ndef main():\n    return 1\n';
  assert.match(mergeSketch(long, 'def main():\n    return 2\n# ...\n').unresolved[0]?.message ?? '', /at its start/);
});

test('bad input: empty sketch, markers only, another language', () => {
  assert.equal(mergeSketch(store, '').refusal?.kind, 'emptySketch');
  assert.equal(mergeSketch(store, '  \n\n').refusal?.kind, 'emptySketch');
  assert.equal(mergeSketch(store, '// ... existing code ...\n\n# ...\n').refusal?.kind, 'markersOnly');
  const python = mergeSketch(store, 'def add(self, item):\n    self.items.append(item)\n');
  assert.equal(python.refusal?.kind, 'noAnchors');
  assert.match(python.refusal!.message, /another file, or another language/);
  assert.equal(python.text, store);
});

test('bad input: a sketch longer than the file adds code around anchors', () => {
  const original = 'a = 1\nb = 2\n';
  const sketch = ['# header', ...Array.from({ length: 30 }, (_, i) => `x${i} = ${i}`), 'a = 1', 'b = 20', ...Array.from({ length: 30 }, (_, i) => `y${i} = ${i}`)].join('\n') + '\n';
  assert.equal(merged(original, sketch), sketch);
});

test('CRLF documents keep CRLF whatever the sketch uses', () => {
  const original = store.replace(/\n/g, '\r\n');
  const text = merged(original, '  add(item) {\n    if (!item) return;\n    this.items.push(item);\n  }\n');
  assert.equal(text, original.replace('  add(item) {\r\n', '  add(item) {\r\n    if (!item) return;\r\n'));
  const lfDoc = merged(store, '  add(item) {\r\n    if (!item) return;\r\n    this.items.push(item);\r\n  }\r\n');
  assert.ok(!lfDoc.includes('\r'));
});

test('a sketch indented with tabs lands in a file indented with spaces (and the reverse)', () => {
  const text = merged(store, '\tadd(item) {\n\t\tthis.items.push(item);\n\t\tthis.count++;\n\t}');
  assert.equal(text, store.replace('    this.items.push(item);\n', '    this.items.push(item);\n    this.count++;\n'));
  const tabbed = store.replace(/^((?: {2})+)/gm, (ws) => '\t'.repeat(ws.length / 2));
  const back = merged(tabbed, '  add(item) {\n    this.items.push(item);\n    this.count++;\n  }');
  assert.equal(back, tabbed.replace('\t\tthis.items.push(item);\n', '\t\tthis.items.push(item);\n\t\tthis.count++;\n'));
});

test('a sketch shifted left as a whole is re-indented to the file', () => {
  const text = merged(store, 'add(item) {\n  this.items.push(item);\n  this.count++;\n}');
  assert.equal(text, store.replace('    this.items.push(item);\n', '    this.items.push(item);\n    this.count++;\n'));
});

test('a fenced sketch is unwrapped; a file without a final newline keeps none', () => {
  const original = 'x = 1\ny = 2';
  assert.equal(merged(original, '```python\nx = 1\ny = 3\n```\n'), 'x = 1\ny = 3');
  assert.equal(merged(original, 'x = 1\ny = 2\nz = 3\n'), 'x = 1\ny = 2\nz = 3');
});

test('a common line inside new code does not anchor the new code to an unrelated place', () => {
  const original = 'function a() {\n  const result = load();\n  return result;\n}\n\nfunction b() {\n  return 2;\n}\n';
  // `return result;` is unique in the document, but here it sits inside new code.
  const text = merged(original, '// ...\nfunction b() {\n  return 2;\n}\n\nfunction c() {\n  const value = compute();\n  return result;\n}\n');
  assert.equal(text, original + '\nfunction c() {\n  const value = compute();\n  return result;\n}\n');
});

test('an empty document takes the sketch as its text, but refuses markers', () => {
  assert.equal(merged('', 'hello\nworld\n'), 'hello\nworld\n');
  assert.equal(mergeSketch('', '// ...\nhello\n').refusal?.kind, 'noAnchors');
});

test('leakedMarkers finds marker lines that the original did not have', () => {
  assert.deepEqual(leakedMarkers('a\n// ... existing code ...\nb\n', 'a\nb\n'), ['// ... existing code ...']);
  assert.deepEqual(leakedMarkers('a\n# ...\n', 'a\n# ...\n'), []);
});

// Property: for a file of distinct lines, replacing one region and sketching it with context and
// markers either merges to exactly the expected text or is reported unresolved: never wrong.
const fileArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 6, maxLength: 60 })
  .map((ids) => ids.map((id) => `  value${id} = compute(${id}, "${(id * 7919) % 1000}");`));

test('merge of a one-region edit with context and markers is exact or flagged, never wrong (property)', () => {
  fc.assert(
    fc.property(
      fileArb,
      fc.nat(),
      fc.nat(),
      fc.array(fc.integer({ min: 20_000, max: 30_000 }), { maxLength: 6 }),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom('// ... existing code ...', '# ...', '...', '/* ... */'),
      (lines, a, b, added, context, marker) => {
        const start = a % lines.length;
        const end = start + (b % Math.min(4, lines.length - start + 1));
        const newLines = added.map((id) => `  fresh${id} = other(${id});`);
        if (newLines.length === 0 && end === start) return true;
        // Deleting a file's first or last lines needs a sketch of the whole file (documented).
        if ((start === 0 && end > 0) || (end === lines.length && start < end)) return true;
        const expected = [...lines.slice(0, start), ...newLines, ...lines.slice(end)];
        const before = lines.slice(Math.max(0, start - context), start);
        const after = lines.slice(end, end + context);
        const sketch = [
          ...(start - context > 0 ? [marker] : []),
          ...before,
          ...newLines,
          ...after,
          ...(end + context < lines.length ? [marker] : []),
        ];
        const original = lines.join('\n') + '\n';
        const result = mergeSketch(original, sketch.join('\n') + '\n');
        if (result.refusal || result.unresolved.length > 0) return true;
        assert.equal(result.text, expected.join('\n') + '\n');
        return true;
      },
    ),
    { numRuns: 500 },
  );
});

test('a sketch that is the whole new file merges to exactly that file (property)', () => {
  fc.assert(
    fc.property(fileArb, fc.nat(), fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 5 }), (lines, at, word) => {
      const next = [...lines];
      next[at % next.length] = `  changed_${word} = 1;`;
      const result = mergeSketch(lines.join('\n') + '\n', next.join('\n') + '\n');
      assert.deepEqual(result.unresolved, []);
      assert.equal(result.text, next.join('\n') + '\n');
    }),
    { numRuns: 200 },
  );
});
