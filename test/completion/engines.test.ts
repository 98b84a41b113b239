import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdaptiveDebounce,
  CompletionCache,
  DocumentLineIndex,
  filterRegionEdits,
  isCommentLine,
  parseChatCompletion,
  parseRegionOutput,
  propagateEdit,
  proposalKey,
  renameBetween,
  renderRegionPrompt,
  vanishedName,
  SimilarCodeEngine,
  Superseder,
  templateForModel,
} from '../../daemon/completion/index.js';

const doc = (uri: string, text: string, version = 1, languageId = 'typescript') => ({ uri, languageId, version, text });
const at = (text: string) => {
  const offset = text.indexOf('█');
  return { text: text.replace('█', ''), offset };
};

test('cache: a hit, typing through a suggestion, expiry and forgetting a document', () => {
  const cache = new CompletionCache({ ttlMs: 1000 });
  cache.set('u', 'let x = ', ';', { insertText: 'compute(1)', replaceLength: 0, engine: 'builtin' }, 0);
  assert.equal(cache.get('u', 'let x = ', ';', 10)?.insertText, 'compute(1)');
  assert.equal(cache.get('u', 'let x = comp', ';', 10)?.insertText, 'ute(1)');
  assert.equal(cache.get('u', 'let x = compX', ';', 10), undefined);
  assert.equal(cache.get('u', 'let x = ', ';', 5000), undefined, 'expired');
  cache.set('u', 'a', '', null, 0);
  assert.equal(cache.get('u', 'a', '', 1), null, 'silence is cached too');
  cache.forgetDocument('u');
  assert.equal(cache.size, 0);
});

test('cache: capacity evicts the least recently used entries', () => {
  const cache = new CompletionCache({ capacity: 3, typeThroughChars: 0 });
  for (const key of ['a', 'b', 'c']) cache.set('u', key, '', { insertText: key + '!', replaceLength: 0, engine: 'x' }, 0);
  cache.get('u', 'a', '', 1);
  cache.set('u', 'd', '', { insertText: 'd!', replaceLength: 0, engine: 'x' }, 0);
  assert.equal(cache.get('u', 'b', '', 1), undefined);
  assert.ok(cache.get('u', 'a', '', 1));
});

test('debounce: fast typing waits longer, a slow model shortens the wait, within bounds', () => {
  const debounce = new AdaptiveDebounce({ minMs: 20, maxMs: 400, initialGapMs: 200 });
  const initial = debounce.delayMs();
  for (let t = 0; t < 2000; t += 60) debounce.recordKeystroke('u', t);
  assert.ok(debounce.delayMs() < initial, 'faster typing measured');
  const fast = debounce.delayMs();
  debounce.recordLatency(300);
  assert.ok(debounce.delayMs() < fast);
  debounce.recordLatency(100_000);
  assert.equal(debounce.delayMs(), 20);
  for (let t = 10_000; t < 20_000; t += 5000) debounce.recordKeystroke('u', t); // pauses are not typing
  assert.ok(debounce.typingGapMs < 200);
});

test('supersede: a newer request aborts the older one; release frees only its own slot', () => {
  const superseder = new Superseder();
  const first = superseder.begin('doc');
  const second = superseder.begin('doc');
  assert.equal(first.superseded, true);
  assert.equal(first.signal.aborted, true);
  assert.equal(second.superseded, false);
  first.release();
  assert.equal(superseder.size, 1);
  const parent = new AbortController();
  const third = superseder.begin('other', parent.signal);
  parent.abort();
  assert.equal(third.signal.aborted, true);
  assert.equal(third.superseded, false, 'cancelled by the client, not superseded');
});

test('line index: incremental updates match a rebuild', () => {
  const index = new DocumentLineIndex('u', 'ts');
  let text = 'const a = 1;\nconst b = 2;\nfunction f() {\n  return a;\n}\n';
  index.update(doc('u', text, 1));
  const edits: Array<[number, number, string]> = [[13, 13, 'let c = 3;\n'], [0, 5, 'var'], [text.length - 2, text.length, '}\nf();\n'], [5, 30, '']];
  let version = 1;
  for (const [start, end, insert] of edits) {
    text = text.slice(0, Math.min(start, text.length)) + insert + text.slice(Math.min(end, text.length));
    index.update(doc('u', text, ++version));
    const fresh = new DocumentLineIndex('u', 'ts');
    fresh.update(doc('u', text, version));
    assert.deepEqual(index.lines.map((l) => [l.no, l.trimmed]), fresh.lines.map((l) => [l.no, l.trimmed]));
    assert.deepEqual([...index.byHead.keys()].sort(), [...fresh.byHead.keys()].sort());
  }
});

test('similar code: continues a line the way matching code in the file does', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  const same = at('router.get("/users", auth, listUsers);\nrouter.post("/users", auth, createUser);\n\nrouter.get("/users", █\n');
  const answer = engine.complete({ document: doc('file:///r.ts', same.text), offset: same.offset, others: [] });
  assert.equal(answer?.text, 'auth, listUsers);');
  assert.ok(answer.confidence >= 0.5);
  // No line starts the same way: the last tokens typed still find the continuation.
  const tail = at('expect(screen.getByText("Save")).toBeVisible();\nexpect(screen.getByText("Cancel")).toBeVisible();\nexpect(screen.getByText("Help")).█\n');
  assert.equal(engine.complete({ document: doc('file:///t.ts', tail.text), offset: tail.offset, others: [] })?.text, 'toBeVisible();');
});

test('similar code: learns from other open documents of the same language, ignores others', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  const other = doc('file:///lib.py', 'import os\nfrom pathlib import Path\nlogger = logging.getLogger(__name__)\n', 1, 'python');
  const { text, offset } = at('import sys\nlogger = logging.getLogger(█\n');
  const answer = engine.complete({ document: doc('file:///main.py', text, 1, 'python'), offset, others: [other] });
  assert.equal(answer?.text, '__name__)');
  const wrongLanguage = engine.complete({ document: doc('file:///main.rb', text, 1, 'ruby'), offset, others: [other] });
  assert.equal(wrongLanguage, null);
});

test('similar code: an empty line continues with what follows the line above elsewhere', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  const { text, offset } = at(
    'def a(self):\n    self.check_open()\n    return self.a\n\ndef b(self):\n    self.check_open()\n    return self.b\n\ndef c(self):\n    self.check_open()\n    █\n',
  );
  const answer = engine.complete({ document: doc('file:///c.py', text, 1, 'python'), offset, others: [] });
  assert.ok(answer);
  assert.match(answer.text, /^return self\.[ab]$/);
});

test('similar code: silent with no similar code, and low confidence when continuations disagree', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  const none = at('const unique = █\n');
  assert.equal(engine.complete({ document: doc('file:///n.ts', none.text), offset: none.offset, others: [] }), null);
  const split = at('x = foo(1)\nx = bar(2)\nx = baz(3)\nx = qux(4)\nx = █\n');
  const answer = engine.complete({ document: doc('file:///s.ts', split.text), offset: split.offset, others: [] });
  assert.ok(!answer || answer.confidence < 0.5);
  // Real text after the cursor: a line continuation would not fit.
  const mid = at('router.get("/a", auth);\nrouter.get(█"/b");\n');
  assert.equal(engine.complete({ document: doc('file:///m.ts', mid.text), offset: mid.offset, others: [] }), null);
});

const apply = (text: string, edits: Array<{ start: number; end: number; newText: string }>) =>
  [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);

test('next edit: a rename propagates to the nearest remaining occurrence first, then other files', () => {
  const before = 'function f(count) {\n  const x = count + 1;\n  return count * x;\n}\n';
  const after = before.replace('f(count)', 'f(total)');
  const other = doc('file:///b.ts', 'f(count);\n', 1);
  const proposals = propagateEdit({
    edit: { uri: 'file:///a.ts', offset: after.indexOf('total'), deletedText: 'count', insertedText: 'total' },
    document: doc('file:///a.ts', after, 2),
    cursorOffset: after.indexOf('total'),
    others: [other],
  });
  assert.equal(proposals.length, 3);
  assert.equal(proposals[0]!.uri, 'file:///a.ts');
  assert.equal(apply(after, proposals[0]!.edits), after.replace('x = count', 'x = total'));
  assert.equal(proposals[2]!.uri, 'file:///b.ts');
  assert.match(proposals[0]!.reason, /rename count → total/);
  const rejected = new Set([proposalKey(proposals[0]!)]);
  const next = propagateEdit({ edit: { uri: 'file:///a.ts', offset: after.indexOf('total'), deletedText: 'count', insertedText: 'total' }, document: doc('file:///a.ts', after, 2), cursorOffset: 0, others: [], rejected });
  assert.equal(next.length, 1, 'a rejected proposal is not offered again');
});

test('next edit: an added argument is added at the other call sites with the same arity', () => {
  const after = 'draw(ctx, shape, true);\ndraw(ctx2, circle);\ndraw(a);\nredraw(ctx, x);\n';
  const offset = after.indexOf(', true');
  const proposals = propagateEdit({
    edit: { uri: 'u', offset, deletedText: '', insertedText: ', true' },
    document: doc('u', after, 2),
    cursorOffset: 0,
    others: [],
  });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('draw(ctx2, circle)', 'draw(ctx2, circle, true)'));
});

test('next edit: a removed argument is removed elsewhere', () => {
  const after = 'log(level, msg);\nlog(INFO, "x", extra);\n';
  const proposals = propagateEdit({
    edit: { uri: 'u', offset: after.indexOf(', msg'), deletedText: '', insertedText: '' },
    document: doc('u', after, 2),
    cursorOffset: 0,
    others: [],
  });
  // insertedText '' with deletedText '' is no edit at all: nothing to propagate.
  assert.equal(proposals.length, 0);
  const removed = propagateEdit({
    edit: { uri: 'u', offset: after.indexOf(');'), deletedText: ', ctx', insertedText: '' },
    document: doc('u', after, 2),
    cursorOffset: 0,
    others: [],
  });
  assert.equal(removed.length, 1);
  assert.equal(apply(after, removed[0]!.edits), 'log(level, msg);\nlog(INFO, "x");\n');
});

test('next edit: a removed line is removed where it recurs', () => {
  const after = 'a();\nb();\n  console.log(state);\nc();\n';
  const proposals = propagateEdit({ edit: { uri: 'u', offset: 5, deletedText: 'console.log(state);\n', insertedText: '' }, document: doc('u', after, 2), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), 'a();\nb();\nc();\n');
});

test('next edit: a half-typed or trivial edit proposes nothing', () => {
  const text = 'let a = 1;\nlet b = a;\n';
  assert.deepEqual(propagateEdit({ edit: { uri: 'u', offset: 4, deletedText: 'x', insertedText: 'a' }, document: doc('u', text), cursorOffset: 0, others: [] }), []);
  // The edit does not describe the text (stale history): nothing.
  assert.deepEqual(propagateEdit({ edit: { uri: 'u', offset: 0, deletedText: 'q', insertedText: 'zzz' }, document: doc('u', text), cursorOffset: 0, others: [] }), []);
});

test('edit region: prompt marks the region and cursor; output diffs back to minimal edits', () => {
  const text = 'a\nb\nconst total = count + 1;\nreturn count;\nc\n';
  const cursor = text.indexOf('total');
  const prompt = renderRegionPrompt({ filename: 'x.ts', text, cursorOffset: cursor, recentEdits: [{ uri: 'x.ts', before: 'let count = 0;\n', after: 'let total = 0;\n' }], linesAbove: 1, linesBelow: 1 });
  assert.match(prompt.prompt, /<\|editable_region_start\|>\nb\nconst <\|user_cursor_is_here\|>total/);
  assert.match(prompt.prompt, /-let count = 0;\n\+let total = 0;/);
  const region = text.slice(prompt.regionStart, prompt.regionEnd);
  const output = `<|editable_region_start|>\n${region.replace('count + 1', 'total + 1').replace('return count', 'return total')}<|editable_region_end|>`;
  const edits = parseRegionOutput(output, prompt, text)!;
  assert.deepEqual(apply(text, edits), text.replace('count + 1', 'total + 1').replace('return count', 'return total'));
  assert.ok(edits.every((edit) => edit.end - edit.start <= 5), 'minimal edits');
  assert.equal(parseRegionOutput('<|editable_region_start|>\nb\n', prompt, text), null, 'truncated output');
  assert.equal(parseRegionOutput('garbage without markers', prompt, text), null);
});

test('edit region: edits that undo the user\'s edit are dropped', () => {
  const text = 'let total = 0;\nuse(count);\n';
  const prompt = renderRegionPrompt({ filename: 'x', text, cursorOffset: 0, recentEdits: [] });
  const undo = { start: 4, end: 9, newText: 'count' };
  const keep = { start: text.indexOf('count'), end: text.indexOf('count') + 5, newText: 'total' };
  assert.deepEqual(filterRegionEdits([undo, keep], prompt, text, [{ offset: 4, deletedText: 'count', insertedText: 'total' }]), [keep]);
});

test('prompts: FIM family by model name, chat answers cleaned', () => {
  assert.equal(templateForModel('Qwen2.5-Coder-1.5B')?.prefix, '<|fim_prefix|>');
  assert.equal(templateForModel('bigcode/starcoder2-3b')?.prefix, '<fim_prefix>');
  assert.equal(templateForModel('codellama:7b-code')?.prefix, '<PRE> ');
  assert.equal(templateForModel('deepseek-coder-6.7b-base')?.middle, '<｜fim▁end｜>');
  assert.equal(templateForModel('codestral-latest')?.prefix, '[PREFIX]');
  assert.equal(templateForModel('gpt-4o'), undefined);
  assert.equal(parseChatCompletion('```ts\nconst x = compute();\n```', '  const x = '), 'compute();');
});

test('next edit: keywords are not callees, and prose in strings is not a pattern', () => {
  const after = 'app.get(function(req, res, next) {});\napp.post(function(req, res) {});\n';
  const keyword = propagateEdit({ edit: { uri: 'u', offset: after.indexOf(', next'), deletedText: '', insertedText: ', next' }, document: doc('u', after, 2), cursorOffset: 0, others: [] });
  assert.deepEqual(keyword, []);
  const prose = 'it("should not parse body", f);\nit("should parse json", g);\n';
  const inString = propagateEdit({ edit: { uri: 'u', offset: prose.indexOf('not '), deletedText: '', insertedText: 'not ' }, document: doc('u', prose, 2), cursorOffset: 0, others: [] });
  assert.deepEqual(inString, []);
});

test('line index: random edit sequences keep the incremental index equal to a rebuild (property)', async () => {
  const fc = await import('fast-check');
  const alphabet = fc.constantFrom('a', 'b', ' ', '\n', '(', ')', 'x1', '\n\n', '  ', '\r\n');
  const text = fc.array(alphabet, { maxLength: 60 }).map((parts) => parts.join(''));
  const edit = fc.tuple(fc.nat(), fc.nat(10), text);
  fc.assert(
    fc.property(text, fc.array(edit, { maxLength: 8 }), (initial, edits) => {
      const index = new DocumentLineIndex('u', 'ts');
      let current = initial;
      index.update(doc('u', current, 0));
      edits.forEach(([start, length, insert], k) => {
        const from = start % (current.length + 1);
        current = current.slice(0, from) + insert + current.slice(from + length);
        index.update(doc('u', current, k + 1));
      });
      const fresh = new DocumentLineIndex('u', 'ts');
      fresh.update(doc('u', current, 99));
      assert.deepEqual(index.lines.map((l) => [l.no, l.trimmed, l.indent]), fresh.lines.map((l) => [l.no, l.trimmed, l.indent]));
      assert.equal(index.lineAtOffset(current.length), fresh.lineAtOffset(current.length));
      for (const [key, set] of fresh.byTrimmed) assert.equal(index.byTrimmed.get(key)?.size, set.size, key);
      assert.equal(index.byTrimmed.size, fresh.byTrimmed.size);
    }),
    { numRuns: 300 },
  );
});

test('similar code: the line being typed does not hide shorter tails found elsewhere', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  // The four-token tail "beta.then(" is only in the line being typed; ".then(" is elsewhere.
  const { text, offset } = at('fetchRows(items.then(render));\nfetchRows(rows.then(render));\nfetchRows(beta.then(█\n');
  assert.equal(engine.complete({ document: doc('file:///q.ts', text), offset, others: [] })?.text, 'render));');
});

test('next edit: a rename over several lines (or twice on a line) propagates like a single one', () => {
  const before = 'const a = count + count;\nlog(count);\nreturn count;\n';
  const after = 'const a = total + total;\nlog(total);\nreturn count;\n';
  const change = { offset: 10, deletedText: before.slice(10, before.indexOf('return') - 3), insertedText: after.slice(10, after.indexOf('return') - 3) };
  const proposals = propagateEdit({ edit: { uri: 'u', ...change }, document: doc('u', after, 2), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('return count', 'return total'));
  assert.equal(renameBetween('f(alpha, beta)', 'f(alpha, gamma)')?.to, 'gamma');
  assert.equal(renameBetween('f(a, b)', 'f(a, c)'), undefined, 'one-letter names are too common to propagate');
  assert.equal(renameBetween('fn(alpha, beta)', 'go(alpha, gamma)'), undefined, 'two different renames are not one pattern');
});

test('next edit: one changed line among added ones is the pattern', () => {
  const after = 'draw(ctx, shape, true);\nflushAll();\ndraw(ctx2, circle);\n';
  const edit = { uri: 'u', offset: after.indexOf(', true'), deletedText: '', insertedText: ', true);\nflushAll(' };
  // The text before: 'draw(ctx, shape);\ndraw(ctx2, circle);\n'
  const proposals = propagateEdit({ edit, document: doc('u', after, 2), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('draw(ctx2, circle)', 'draw(ctx2, circle, true)'));
});

test('next edit: changing a keyword is not a rename', () => {
  const text = 'const a = 1;\nlet b = 2;\nlet c = 3;\n';
  assert.deepEqual(propagateEdit({ edit: { uri: 'u', offset: 0, deletedText: 'let', insertedText: 'const' }, document: doc('u', text, 2), cursorOffset: 0, others: [] }), []);
});

test('similar code: a well-supported line that opens a block brings the block, re-indented', () => {
  const engine = new SimilarCodeEngine({ eager: true });
  const { text, offset } = at(
    'function a(items) {\n  const out = [];\n  for (const item of items) {\n    out.push(item.id);\n  }\n  return out;\n}\n\nclass B {\n  list(items) {\n    const out = [];\n    for (const item of it█\n',
  );
  const answer = engine.complete({ document: doc('file:///b.ts', text), offset, others: [] });
  assert.equal(answer?.text, 'ems) {\n      out.push(item.id);\n    }');
  // Weak support (no shared line above): the line only.
  const weak = at('for (const item of items) {\n  out.push(item.id);\n}\nfor (const item of it█\n');
  assert.equal(engine.complete({ document: doc('file:///w.ts', weak.text), offset: weak.offset, others: [] })?.text, 'ems) {');
});

/** The edit that turned `before` into `after`, as the edit history records it. */
const editBetween = (uri: string, before: string, after: string) => {
  let head = 0;
  while (head < before.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { uri, offset: head, deletedText: before.slice(head, before.length - tail), insertedText: after.slice(head, after.length - tail) };
};

test('next edit: a changed literal value is not a rename', () => {
  const before = 'fetch(url, redirect=False)\nstore(key, cache=False)\n';
  const after = 'fetch(url, redirect=True)\nstore(key, cache=False)\n';
  assert.deepEqual(propagateEdit({ edit: editBetween('u', before, after), document: doc('u', after, 2, 'python'), cursorOffset: 0, others: [] }), []);
});

test('next edit: tokens only added to a line are a one-off; tokens only removed recur', () => {
  const widenBefore = 'import { alpha, beta } from "m";\nimport { alpha, beta } from "n";\n';
  const widenAfter = 'import { alpha, beta, gamma } from "m";\nimport { alpha, beta } from "n";\n';
  assert.deepEqual(propagateEdit({ edit: editBetween('u', widenBefore, widenAfter), document: doc('u', widenAfter, 2), cursorOffset: 0, others: [] }), []);
  const dropBefore = 'a = this.charset || this.app.get("charset") || "utf-8";\nb = this.charset || this.app.get("charset") || "utf-8";\n';
  const dropAfter = 'a = this.charset || "utf-8";\nb = this.charset || this.app.get("charset") || "utf-8";\n';
  const proposals = propagateEdit({ edit: editBetween('u', dropBefore, dropAfter), document: doc('u', dropAfter, 2), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(dropAfter, proposals[0]!.edits), 'a = this.charset || "utf-8";\nb = this.charset || "utf-8";\n');
});

test('next edit: a parameter added to a definition is passed by keyword where calls pass keywords', () => {
  const before = 'def send(self, request, timeout=None, verify=True):\n    pass\n\nself.send(req, timeout=timeout, verify=verify)\nsend(a, b)\n';
  const after = before.replace('request, timeout=None', 'request, stream=False, timeout=None');
  const proposals = propagateEdit({ edit: editBetween('u', before, after), document: doc('u', after, 2, 'python'), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1, 'the positional call is left alone');
  assert.match(proposals[0]!.reason, /pass stream=stream to send/);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('self.send(req, timeout=timeout', 'self.send(req, stream=stream, timeout=timeout'));
  // Appended last: after the last keyword argument declared before it.
  const last = before.replace('verify=True)', 'verify=True, proxies=None)');
  const appended = propagateEdit({ edit: editBetween('u', before, last), document: doc('u', last, 2, 'python'), cursorOffset: 0, others: [] });
  assert.equal(apply(last, appended[0]!.edits), last.replace('verify=verify)', 'verify=verify, proxies=proxies)'));
});

test('next edit: a call laid out over several lines gets the new keyword argument in place', () => {
  const before = 'def send(self, request, timeout=None, verify=True):\n    pass\n\nself.send(\n    req,\n    timeout=timeout,\n    verify=verify,\n)\n';
  const after = before.replace('verify=True)', 'verify=True, proxies=None)');
  const proposals = propagateEdit({ edit: editBetween('u', before, after), document: doc('u', after, 2, 'python'), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('    verify=verify,\n)', '    verify=verify, proxies=proxies,\n)'));
  const removed = before.replace(', timeout=None', '');
  const stop = propagateEdit({ edit: editBetween('u', before, removed), document: doc('u', removed, 2, 'python'), cursorOffset: 0, others: [] });
  assert.equal(apply(removed, stop[0]!.edits), removed.replace('    req,\n    timeout=timeout,\n', '    req,\n'));
});

test('next edit: a parameter removed from a definition stops being passed by keyword', () => {
  const before = 'def get(self, url, verify=True):\n    pass\n\nget(u, verify=False)\nget(u)\n';
  const after = before.replace('url, verify=True', 'url');
  const proposals = propagateEdit({ edit: editBetween('u', before, after), document: doc('u', after, 2, 'python'), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('get(u, verify=False)', 'get(u)'));
});

test('next edit: a name swapped inside a larger change is renamed at its remaining sites; a rewrite is not', () => {
  assert.deepEqual(vanishedName('const total = sumOf(items);\nlog(total, items);', 'const total = sumOf(entries, 0);\nlog(total, entries);'), { from: 'items', to: 'entries' });
  assert.equal(vanishedName('var parts = str.split(/;/);\nvar ret = { value: parts[0] };', 'var length = str.length;\nvar index = str.indexOf(";");\nvar ret = { value: str.slice(0, index) };'), undefined);
  assert.equal(vanishedName('f(alpha, beta);\ng(alpha);', 'f(gamma, beta);\ng(alpha);'), undefined, 'the old name is still used: not a rename');
  const before = 'const total = sumOf(items);\nlog(total, items);\n\nreport(items);\n';
  const after = 'const total = sumOf(entries, 0);\nlog(total, entries);\n\nreport(items);\n';
  const proposals = propagateEdit({ edit: editBetween('u', before, after), document: doc('u', after, 2), cursorOffset: 0, others: [] });
  assert.equal(proposals.length, 1);
  assert.equal(apply(after, proposals[0]!.edits), after.replace('report(items)', 'report(entries)'));
});

test('similar code: a comment continued without matching lines above is held to a higher bar', () => {
  assert.ok(isCommentLine('  // the next'));
  assert.ok(isCommentLine('# retry when'));
  assert.ok(isCommentLine(' * @param'));
  assert.ok(!isCommentLine('  const a = b; // x'), 'code with a trailing comment is code');
  assert.ok(!isCommentLine('#include <stdio'), 'a C preprocessor line is code');
  const engine = new SimilarCodeEngine({ eager: true });
  // The same words as code and as a comment, typed far enough for full evidence either way.
  const code = 'alpha();\n  retry the request three times\nbeta();\n  retry the request three times\ngamma();\n  retry the request three █\n';
  const comment = 'alpha();\n  // retry the request three times\nbeta();\n  // retry the request three times\ngamma();\n  // retry the request three █\n';
  const codeAnswer = engine.complete({ document: doc('file:///c.ts', at(code).text), offset: at(code).offset, others: [] });
  const commentAnswer = engine.complete({ document: doc('file:///d.ts', at(comment).text), offset: at(comment).offset, others: [] });
  assert.equal(commentAnswer?.text, 'times');
  assert.equal(codeAnswer?.text, 'times');
  assert.ok(commentAnswer.confidence < codeAnswer!.confidence, `comment ${commentAnswer.confidence} vs code ${codeAnswer?.confidence}`);
});
