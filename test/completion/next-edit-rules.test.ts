// The builtin next edit's propagation rules, one test per rule: each states what the user did
// and which analogous site (and only which) is proposed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { indexedRename, type OffsetEdit, propagateEdit } from '../../daemon/completion/index.js';

const doc = (text: string) => ({ uri: 'file:///u', languageId: 'python', version: 2, text });

/** The user's edit as it appears in `after`: `inserted` at `at` replaced `deleted`. */
function proposalsAfter(after: string, at: number, deleted: string, inserted: string) {
  assert.equal(after.slice(at, at + inserted.length), inserted);
  return propagateEdit({ edit: { uri: 'file:///u', offset: at, deletedText: deleted, insertedText: inserted }, document: doc(after), cursorOffset: at, others: [] });
}

const apply = (text: string, edits: readonly OffsetEdit[]) =>
  [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);

test('next edit: trailing blanks stripped from a line are stripped from the nearest other line', () => {
  const after = 'a = 1\nb = 2\t \nc = 3\nd = 4  \n';
  const proposals = proposalsAfter(after, 5, '  ', '');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), ['a = 1\nb = 2\nc = 3\nd = 4  \n', 'a = 1\nb = 2\t \nc = 3\nd = 4\n']);
  // Blanks added at a line's end are no style to propagate.
  assert.deepEqual(proposalsAfter('a = 1 \nb = 2  \n', 5, '', ' '), []);
});

test('next edit: the blank at a comment marker changed is changed at the other comments, not inside strings', () => {
  const before = 'a = 1 # one\nb = [2] # two\ns = "x # y"\nc = 3 # three\n';
  const after = before.replace('a = 1 # one', 'a = 1  # one');
  const proposals = proposalsAfter(after, after.indexOf('  #'), '', ' ');
  // `b` has a bracket, not a word, before its comment; `s` has no comment at all.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('c = 3 # three', 'c = 3  # three')]);
  // After the marker: `#note` to `# note`.
  const notes = '#first note\nvalue = "#not a comment"\n#second note\n';
  const afterNotes = notes.replace('#first', '# first');
  const marked = proposalsAfter(afterNotes, 1, '', ' ');
  assert.deepEqual(marked.map((p) => apply(afterNotes, p.edits)), ['# first note\nvalue = "#not a comment"\n# second note\n']);
});

test('next edit: a trailing comment deleted is deleted where it recurs, whatever its bracketed detail', () => {
  const after = 'import a\nimport b  # type: ignore[attr]\nz = "  # type: ignore[q]"\nc = 1  # type: ignore[misc]\n';
  const proposals = proposalsAfter(after, 'import a'.length, '  # type: ignore[x]', '');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [
    'import a\nimport b\nz = "  # type: ignore[q]"\nc = 1  # type: ignore[misc]\n',
    'import a\nimport b  # type: ignore[attr]\nz = "  # type: ignore[q]"\nc = 1\n',
  ]);
  // Deleting code before the comment is not this rule's.
  assert.deepEqual(proposalsAfter('a = 1  # note\nb = 2, 3  # note\n', 5, ', 3', '').length, 0);
});

test('next edit: a line changed while identical copies stand elsewhere changes the copies, even in strings', () => {
  const after = 'def a():\n    log("Saving the file now...")\n\ndef b():\n        log("Saving the file now")\n';
  const at = after.indexOf('...');
  const proposals = proposalsAfter(after, at, '', '...');
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replaceAll('now")', 'now...")'));
  // Without an identical copy, prose in a string is not a pattern.
  const single = 'log("Saving the file now...")\nlog("Saving the files now")\n';
  assert.deepEqual(proposalsAfter(single, single.indexOf('...'), '', '...'), []);
});

test('next edit: a name replaced by a path to it is replaced at its other uses, not where it is an attribute', () => {
  const after = 'self.sock = make()\nport = sock.port\nother.sock = 1\nsend(sock)\n';
  const proposals = proposalsAfter(after, 0, 'sock', 'self.sock');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [
    after.replace('port = sock.port', 'port = self.sock.port'),
    after.replace('send(sock)', 'send(self.sock)'),
  ]);
});

test('next edit: a keyword argument added to a call goes to sibling calls with the same arguments', () => {
  const after = 'a = hashlib.md5(x, usedforsecurity=False)\nb = hashlib.sha1(x)\nc = hashlib.sha1(y)\nd = other.sha1(x)\n';
  const at = after.indexOf(', usedforsecurity');
  const proposals = proposalsAfter(after, at, '', ', usedforsecurity=False');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('hashlib.sha1(x)', 'hashlib.sha1(x, usedforsecurity=False)')]);
  // A positional argument means something different to each function: not propagated.
  const positional = 'a = posix.cat(file, "binary")\nb = posix.stat(file)\n';
  assert.deepEqual(proposalsAfter(positional, positional.indexOf(', "binary"'), '', ', "binary"'), []);
});

test('next edit: a parameter dropped from a definition no call passes by keyword is dropped from sibling definitions', () => {
  const after = 'def test_a(self):\n    pass\n\ndef test_b(self, httpbin):\n    pass\n';
  const proposals = proposalsAfter(after, 'def test_a(self'.length, ', httpbin', '');
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('test_b(self, httpbin)', 'test_b(self)'));
});

test('next edit: added lines are not propagated (they rarely recur after the same anchor)', () => {
  const after = 'if (a) {\n  startServer(a);\n  log("a");\n}\nif (b) {\n    startServer(a);\n}\n';
  const offset = after.indexOf('\n  log');
  assert.deepEqual(proposalsAfter(after, offset, '', '\n  log("a");'), []);
});

test('next edit: a year or version number changed is changed where it recurs, prose included; short values are not', () => {
  const after = ':copyright: (c) 2013 by Someone.\n__copyright__ = "Copyright 2012 Someone"\nport = 12012\nratio = 2012.5\n';
  const proposals = proposalsAfter(after, after.indexOf('2013'), '2012', '2013');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('Copyright 2012', 'Copyright 2013')]);
  const status = 'code = 404\nother = 500\n';
  assert.deepEqual(proposalsAfter(status, status.indexOf('404'), '500', '404'), []);
});

test('next edit: a declaration rewritten under a new name renames its uses, unless the new name is already in use', () => {
  const before = 'interface Entry {\n  /** False while the file awaits its second pass. */\n  complete: boolean;\n}\nconst entry = { complete: true };\n';
  const after = before.replace('  /** False while the file awaits its second pass. */\n  complete: boolean;', '  /** What the second pass still owes the file. */\n  pending: 0 | 1 | 2;');
  const at = after.indexOf('/** What');
  const proposals = proposalsAfter(after, at, '/** False while the file awaits its second pass. */\n  complete: boolean', '/** What the second pass still owes the file. */\n  pending: 0 | 1 | 2');
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('{ complete: true }', '{ pending: true }'));
  // The new name is already used in the file: something else takes the old one's place.
  const taken = after + 'log(other.pending);\n';
  assert.deepEqual(proposalsAfter(taken, at, '/** False while the file awaits its second pass. */\n  complete: boolean', '/** What the second pass still owes the file. */\n  pending: 0 | 1 | 2'), []);
});

test('next edit: a variable introduced for an expression replaces it later in the same block only', () => {
  const before = 'function send() {\n  log(this.req.next);\n  if (ok) {\n    go(this.req.next);\n  }\n  x = this.req.next;\n}\nfunction other() {\n  go(this.req.next);\n}\n';
  const after = before.replace('function send() {\n', 'function send() {\n  var next = this.req.next;\n');
  const at = after.indexOf('\n  var next') ;
  const proposals = proposalsAfter(after, at, '', '\n  var next = this.req.next;');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [
    after.replace('log(this.req.next)', 'log(next)'),
    after.replace('    go(this.req.next)', '    go(next)'),
  ]);
});

test('next edit: a type alias introduced replaces its spelled-out type below it', () => {
  const before = 'interface Options {\n  search?: () => ReadonlyArray<{ path: string }>;\n}\n';
  const after = 'type Hits = ReadonlyArray<{ path: string }>;\n\n' + before;
  const proposals = proposalsAfter(after, 0, '', 'type Hits = ReadonlyArray<{ path: string }>;\n\n');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('() => ReadonlyArray<{ path: string }>', '() => Hits')]);
});

test('next edit: any edit of any text gets proposals inside the document that leave the user\'s edit alone (property)', () => {
  const piece = fc.constantFrom('a', 'x1', 'foo', ' ', '  ', '\t', '\n', '\r\n', '#', '//', '"', "'", '`', '(', ')', '[', ']', '{', '}', ',', '.', '=', ';', '2012', 'é', '\\', '*', 'def ', 'const ', 'import ', ' as ', '$');
  const text = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, fc.nat(), fc.nat(), text, (before, a, b, inserted) => {
      const start = Math.min(a, b) % (before.length + 1);
      const end = Math.min(before.length, start + (Math.max(a, b) % 12));
      const deleted = before.slice(start, end);
      const after = before.slice(0, start) + inserted + before.slice(end);
      const proposals = propagateEdit({ edit: { uri: 'file:///u', offset: start, deletedText: deleted, insertedText: inserted }, document: doc(after), cursorOffset: start, others: [] });
      for (const p of proposals) {
        for (const e of p.edits) {
          assert.ok(e.start >= 0 && e.start <= e.end && e.end <= after.length);
          // Never inside the user's own edit (that would undo it).
          assert.ok(e.end <= start || e.start >= start + inserted.length || inserted.length === 0);
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('next edit: a removed line is found however the deletion was recorded, and only where it stands once more', () => {
  const before = 'function a() {\n  var self = this;\n  var list = [];\n}\nfunction b() {\n  var self = this;\n  var done = 1;\n}\n';
  const after = before.replace('  var self = this;\n  var list', '  var list');
  // Recorded mid-line, as a minimal text diff sees it: `self = this;\n  var ` went.
  const at = after.indexOf('var list') + 'var '.length;
  const proposals = proposalsAfter(after, at, 'self = this;\n  var ', '');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('  var self = this;\n  var done', '  var done')]);
  // Two more copies: an idiom that stays where it is.
  const idiom = after + 'function c() {\n  var self = this;\n}\n';
  assert.deepEqual(proposalsAfter(idiom, at, 'self = this;\n  var ', ''), []);
});

test('next edit: a string literal changed is changed where the same literal stands whole', () => {
  const after = "expect('Content-Type', 'text/javascript')\nsend({ type: 'application/json' })\nlog('application/json; charset=utf-8')\n";
  const at = after.indexOf("'text/javascript'");
  const proposals = proposalsAfter(after, at, "'application/json'", "'text/javascript'");
  // Not inside a longer literal, which is another value.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace("type: 'application/json'", "type: 'text/javascript'")]);
  // Code changed beside the literal: not this rule's.
  const mixed = "expect(type, 'text/javascript')\nsend({ type: 'application/json' })\n";
  assert.deepEqual(proposalsAfter(mixed, 0, "expect('Content-Type', 'application/json')", "expect(type, 'text/javascript')"), []);
});

test('next edit: an identical copy is not edited past its text when the change was among trailing blanks', () => {
  // `compute(value) ` became `compute(value) + 1`: the splice starts after a blank the copy
  // does not have, so it has no place there (it would land on the next line).
  const after = '  compute(value) + 1\n  compute(value)\nc = 2\n';
  const proposals = proposalsAfter(after, '  compute(value) '.length, '', '+ 1');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)).filter((text) => text.includes('+ 1c')), []);
});

test('next edit: a name swapped in code on a line that also changed otherwise is renamed at its remaining uses', () => {
  const before = "import { fixtureFiles, stopDaemon, writeFixture } from './fixture.js';\nafter(() => stopDaemon(env));\n";
  const after = before.replace('{ fixtureFiles, stopDaemon,', '{ editAndWait, fixtureFiles, stopEditor,');
  const at = after.indexOf('editAndWait');
  const proposals = proposalsAfter(after, at, 'fixtureFiles, stopDaemon', 'editAndWait, fixtureFiles, stopEditor');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('stopDaemon(env)', 'stopEditor(env)')]);
  // Swapped inside a string or a comment: a changed value or text at one place, not a rename.
  const text = "load(require('url').parse, 1);\nlog(req.url);\n";
  const edited = text.replace("require('url').parse, 1", "require('connect').parse, 2");
  assert.deepEqual(proposalsAfter(edited, 5, "require('url').parse, 1", "require('connect').parse, 2"), []);
  const doc = '/** @param {mixed} args, the rest */\nrun(args); // mixed\n';
  const documented = doc.replace('{mixed} args, the rest', '{array} args');
  assert.deepEqual(proposalsAfter(documented, 11, '{mixed} args, the rest', '{array} args'), []);
});

test('next edit: a parameter renamed in a definition is renamed in its body, not beyond it', () => {
  const before = 'def send(self, request, prefetch=True, timeout=None):\n    if prefetch:\n        load(self.prefetch)\n    return prefetch\n\ndef other(prefetch):\n    return prefetch\n';
  const after = before.replace('prefetch=True', 'stream=False');
  const at = after.indexOf('stream=False');
  const proposals = proposalsAfter(after, at, 'prefetch=True', 'stream=False');
  // The body's two uses, nearest first; not the attribute `self.prefetch`, not `other`'s parameter.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('if prefetch:', 'if stream:'), after.replace('return prefetch\n\ndef', 'return stream\n\ndef')]);
  // A JavaScript function expression given a name and a renamed parameter at once.
  const js = "app.use = function(route, fn){\n  this.router.use(route, fn);\n};\nroute = 1;\n";
  const renamed = js.replace('function(route, fn)', 'function use(path, fn)');
  const jsProposals = proposalsAfter(renamed, 'app.use = function'.length, '(route', ' use(path');
  assert.deepEqual(jsProposals.map((p) => apply(renamed, p.edits)), [renamed.replace('use(route, fn);', 'use(path, fn);')]);
});

test('next edit: a variable declared again under a new name with the same initializer, among other lines, is renamed', () => {
  const before = 'function handle(id) {\n  const controller = session.begin(id);\n  const log = session.log.child();\n  run({ signal: controller.signal });\n}\n';
  const after = before.replace('controller = session.begin(id);\n  const log = session.log.child()', 'inflight = session.begin(id)');
  const at = after.indexOf('inflight');
  const proposals = proposalsAfter(after, at, 'controller = session.begin(id);\n  const log = session.log.child()', 'inflight = session.begin(id)');
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('controller.signal', 'inflight.signal')]);
  // Another initializer: a different variable, not a rename.
  const other = before.replace('controller = session.begin(id);\n  const log = session.log.child()', 'inflight = session.track(id)');
  assert.deepEqual(proposalsAfter(other, at, 'controller = session.begin(id);\n  const log = session.log.child()', 'inflight = session.track(id)'), []);
});

test('next edit: a function added that wraps one call takes that call\'s place elsewhere', () => {
  const wrapper = 'function rpcError(code, message) {\n  return fix(new RpcError(code, message));\n}\n';
  const before = "function check(x) {\n  if (!x) throw new RpcError(1, 'no x');\n  throw new RpcError(2, 'bad', extra);\n}\n";
  const after = wrapper + before;
  const proposals = proposalsAfter(after, 0, '', wrapper);
  // The construction with as many arguments as the wrapper takes; not the one with three.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace("throw new RpcError(1, 'no x')", "throw rpcError(1, 'no x')")]);
  // A Python method wrapping a call on self: called on self.
  const method = '    def fields(self, data):\n        return self.items_of(data)\n\n';
  const py = 'class Form:\n    def encode(self, data):\n        for k, v in self.items_of(data):\n            pass\n';
  const withMethod = py.replace('    def encode', `${method}    def encode`);
  const methodProposals = proposalsAfter(withMethod, withMethod.indexOf('    def fields'), '', method);
  assert.deepEqual(methodProposals.map((p) => apply(withMethod, p.edits)), [withMethod.replace('in self.items_of(data)', 'in self.fields(data)')]);
  // A body that passes its parameters to two calls wraps neither.
  const two = 'function both(a) {\n  log(a);\n  return send(a);\n}\n';
  assert.deepEqual(proposalsAfter(two + 'send(b);\n', 0, '', two), []);
});

test('next edit: a value wrapped where it is stored is read from where it is stored below, in the same block', () => {
  const before = "local function on_status(result)\n  statusline.index = result\n  local state = type(result) == 'table' and result.state\n  result = nil\nend\nprint(result)\n";
  const after = before.replace('statusline.index = result', 'statusline.index = statusline.summarize(result)');
  const at = after.indexOf('statusline.summarize(');
  const proposals = proposalsAfter(after, at, 'result', 'statusline.summarize(result)');
  // Both reads on the next line; not the assignment to it, not beyond the block.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [
    after.replace('type(result)', 'type(statusline.index)'),
    after.replace('result.state', 'statusline.index.state'),
  ]);
  // A changed value that does not wrap the old one reads nothing new.
  const replaced = before.replace('statusline.index = result', 'statusline.index = fetch()');
  assert.deepEqual(proposalsAfter(replaced, replaced.indexOf('fetch()'), 'result', 'fetch()'), []);
});

test('next edit: a named string constant added takes the place of its string, or of one nearly the same', () => {
  const constant = "export const PENDING_SCAN =\n  'SELECT c.id, c.content FROM files f CROSS JOIN chunks c ON c.file_id = f.id WHERE f.pending > 0';\n";
  const before = "const scan = db.prepare('SELECT c.id, c.content FROM files f JOIN chunks c ON c.file_id = f.id WHERE f.pending > 0');\nconst other = db.prepare('SELECT id FROM files');\n";
  const after = constant + before;
  const proposals = proposalsAfter(after, 0, '', constant);
  // A word apart (CROSS JOIN): the same query; the other one is another query.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace(/db\.prepare\('SELECT c\.id[^)]*\)/, 'db.prepare(PENDING_SCAN)')]);
  // Short strings must be the same exactly: `'application/json'` is not `'application/jsonp'`.
  const short = "JSON_TYPE = 'application/json'\n";
  const py = short + "send(body, type='application/jsonp')\nsend(body, type='application/json')\n";
  assert.deepEqual(proposalsAfter(py, 0, '', short).map((p) => apply(py, p.edits)), [py.replace("type='application/json')", 'type=JSON_TYPE)')]);
});

test('next edit: a comment rewritten to name something else in code renames the code still spelling the old name', () => {
  const before = '// The syntax pass (syntaxPass) re-chunks files.\n// It runs last.\nexport function syntaxPass() {}\n// see syntaxPass\nrun(syntaxPass);\n';
  const oldComment = '// The syntax pass (syntaxPass) re-chunks files.\n// It runs last.';
  const newComment = '// The second pass (secondPass) adds trigrams and re-chunks files\n// when nothing more urgent waits.';
  const after = before.replace(oldComment, newComment);
  const proposals = proposalsAfter(after, 0, oldComment, newComment);
  // Code only, nearest first; the other comment is left to the user.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('function syntaxPass', 'function secondPass'), after.replace('run(syntaxPass)', 'run(secondPass)')]);
  // Words of prose swapped (`syntax` to `second`) rename nothing.
  const [oldProse, newProse] = ['// The syntax pass runs last,\n// after the scan.', '// The second pass runs first,\n// before anything.'];
  const prose = `${newProse}\nconst syntax = 1;\n`;
  assert.deepEqual(proposalsAfter(prose, 0, oldProse, newProse), []);
});

test('next edit: only a renamed name is looked up in the index for files that are not open; in prose, with its line', () => {
  const named = (after: string, at: number, deleted: string, inserted: string) => indexedRename({ uri: 'file:///u', offset: at, deletedText: deleted, insertedText: inserted }, after);
  const code = "title = format_title('a')\n";
  assert.deepEqual(named(code, code.indexOf('title('), 'label', 'title'), { name: 'format_label', prose: false, line: "title = format_label('a')" });
  // In a comment or a string it is prose: only another file holding the very line is a site.
  const comment = '# the real file watcher\n';
  assert.deepEqual(named(comment, comment.indexOf('file'), 'chokidar', 'file'), { name: 'chokidar', prose: true, line: '# the real chokidar watcher' });
  const block = ' * Memory cache.\n';
  assert.equal(named(block, block.indexOf('Memory'), 'View', 'Memory')?.prose, true);
  const string = "log('saving the file')\n";
  assert.equal(named(string, string.indexOf('file'), 'page', 'file')?.prose, true);
  // A deleted line, a changed value or a keyword is no rename.
  assert.equal(named('a = 1\n', 0, 'import os\n', ''), undefined);
  assert.equal(named('x = True\n', 4, 'False', 'True'), undefined);
  assert.equal(named('const x = 1\n', 0, 'let', 'const'), undefined);
  // An edit that no longer describes the text names nothing.
  assert.equal(named(code, 0, 'x', 'y'), undefined);
});
