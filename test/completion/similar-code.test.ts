import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bracketsFit, DocumentLineIndex, evidenceNeeded, LOOKED_UP_FACTOR, narrowest, rarestWord, shapeEnd, shapeOf, SimilarCodeEngine, topLevelCloses, wordKeysOf } from '../../daemon/completion/index.js';

const doc = (uri: string, text: string, version = 1, languageId = 'typescript') => ({ uri, languageId, version, text });
const at = (text: string) => {
  const offset = text.indexOf('█');
  return { text: text.replace('█', ''), offset };
};
const complete = (text: string, others: ReturnType<typeof doc>[] = []) => {
  const cursor = at(text);
  return new SimilarCodeEngine({ eager: true }).complete({ document: doc('file:///a.ts', cursor.text), offset: cursor.offset, others });
};

test('line index: lines by word key, kept up to date by edits', () => {
  assert.deepEqual([...wordKeysOf('items.map(toRow, io)')], ['item', 'map', 'toRo'], 'words of three or more characters, by their first four');
  const index = new DocumentLineIndex('u', 'ts');
  index.update(doc('u', 'render(items);\nother();\n'));
  assert.equal(index.byWord.get('item')?.size, 1);
  index.update(doc('u', 'render(rows);\nother();\n', 2));
  assert.equal(index.byWord.get('item'), undefined);
  assert.equal(index.byWord.get('rows')?.size, 1);
});

test('similar code: the last tokens typed are found inside lines that start differently', () => {
  // No other line starts with "return": the tail "items.map(" is in a line that starts with "result".
  const answer = complete('result = render(items.map(toRow), true);\nlet other = 1;\nreturn render(items.map(█\n');
  assert.equal(answer?.text, 'toRow), true);');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  assert.ok(answer.detail.tailMatched);
  // The rarest complete word of the tail is the one looked up; a short last word may be unfinished.
  const index = new DocumentLineIndex('u', 'ts');
  index.update(doc('u', 'map(a)\nmap(b)\nitems.map(c)\n'));
  assert.equal(rarestWord('items.map(', [index]), 'item');
  assert.equal(rarestWord('x.ma', [index]), undefined);
});

test('similar code: a longer matched tail is stronger evidence than a shorter one', () => {
  const four = complete('total = sum(values, start + offset);\nshow(values, start + offset█\n');
  const two = complete('total = sum(values, start + offset);\nshow(count + offset█\n');
  assert.equal(four?.text, ');');
  assert.equal(two?.text, ');');
  assert.equal(four.detail.tailTokens, 4);
  assert.equal(two.detail.tailTokens, 2);
  assert.ok(four.confidence > two.confidence, `${four.confidence} vs ${two.confidence}`);
});

test('similar code: a long continuation needs more evidence than a short one', () => {
  assert.equal(evidenceNeeded(1), 5);
  assert.equal(evidenceNeeded(5), 5);
  assert.ok(evidenceNeeded(14) > 9);
  const long = complete('config.set("alpha", beta, gamma, delta, epsilon, zeta, eta, theta);\nconfig.set(█\n');
  const short = complete('config.set("alpha");\nconfig.set(█\n');
  assert.equal(short?.text, '"alpha");');
  assert.ok(short.confidence >= 0.5);
  assert.ok(long && long.confidence < 0.5, `one copy of a 17-token continuation is a guess: ${long?.confidence}`);
});

test('similar code: one candidate sharing the lines above outvotes several that only start the same way', () => {
  const answer = complete(
    'x = load();\ny = parse(x);\nresult = compute(a);\n\nresult = compute(b);\nfoo();\nresult = compute(c);\nbar();\nresult = compute(d);\n\nx = load();\ny = parse(x);\nresult = compute(█\n',
  );
  assert.equal(answer?.text, 'a);');
  assert.ok(answer.confidence >= 0.9, String(answer.confidence));
});

test('similar code: a tail match whose closing brackets do not fit the line typed is not offered', () => {
  assert.ok(bracketsFit('show(a, ', 'print(b, ', 'c);'), 'one call closed in both');
  assert.ok(!bracketsFit('show(a, ', 'print(wrap(b, ', 'c);'), 'ours has two calls open: closing one would end the statement unbalanced');
  assert.ok(!bracketsFit('items[f(', 'g(h(', 'x)];'), 'the continuation closes a bracket ours does not have open');
  assert.ok(bracketsFit('f(a(', 'g(h(', 'x),'), 'a line left open on both sides (a call over several lines)');
  assert.ok(!bracketsFit('f(', 'g(h(', 'x),'), 'their line ends balanced, ours would not');
  assert.ok(bracketsFit('f("(', 'g("', 'x")'), 'inside a string the brackets are text');
  // The only line holding the tail "total, sum(" closes one call; the line typed has two open.
  const answer = complete('log(total, sum(rows));\nreport(wrap(total, sum(█\n');
  assert.equal(answer, null);
  const fits = complete('log(total, sum(rows));\nreport(total, sum(█\n');
  assert.equal(fits?.text, 'rows));');
});

test('similar code: the shorter of the head and word lists is walked, with the same matches', () => {
  const index = new DocumentLineIndex('u', 'ts');
  index.update(doc('u', 'const a = store.get(1);\nconst b = 2;\nconst c = 3;\nlet d = store.get(4);\n'));
  const heads = index.byHead.get('const');
  assert.equal(narrowest(heads, 'stor', index)?.size, 2, 'two lines hold "store", three start with "const"');
  assert.equal(narrowest(heads, undefined, index), heads);
  assert.equal(narrowest(heads, 'none', index), undefined, 'no line holds the word: nothing can match');
  // Walked by word, a line with another head is still not a same-head tail match ("let" vs "const").
  const answer = complete('const p = 1;\nconst q = 2;\nconst r = 3;\nconst a = store.get(1, x);\nlet d = store.get(4, y);\nconst e = store.get(█\n');
  assert.equal(answer?.text, '1, x);');
  // With a scan budget too small for the head list, the word list still finds the line.
  const filler = Array.from({ length: 30 }, (_, i) => `const f${i} = ${i};`).join('\n');
  const cursor = at(`${filler}\nconst total = store.get(items, 0);\nconst sum = store.get(█\n`);
  const small = new SimilarCodeEngine({ eager: true, maxScan: 10 });
  assert.equal(small.complete({ document: doc('file:///s.ts', cursor.text), offset: cursor.offset, others: [] })?.text, 'items, 0);');
});

test('similar code: below a lone brace, what follows the same brace after the same line elsewhere', () => {
  const answer = complete("it('a', () => {\n  res.send(a);\n});\nrequest(app);\nit('b', () => {\n  res.send(a);\n});\n█\n");
  assert.equal(answer?.text, 'request(app);');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  // A brace after a different line says nothing.
  assert.equal(complete("it('a', () => {\n  res.send(a);\n});\nrequest(app);\nit('b', () => {\n  res.end();\n});\n█\n"), null);
});

test('similar code: a nearby sibling of the same shape continues a line whose first name differs', () => {
  // No line starts with "kvCacheMiB" and the tail "?: n" holds no word to look up: the field
  // two lines up has the same shape after its own name.
  const answer = complete('interface Options {\n  threads?: number;\n  cpuOnly?: boolean;\n  kvCacheMiB?: n█\n}\n');
  assert.equal(answer?.text, 'umber;');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  // Only within a few lines: the same field far away is no sibling.
  const far = complete(`interface A {\n  threads?: number;\n}\n${'call();\n'.repeat(20)}interface B {\n  kvCacheMiB?: n█\n}\n`);
  assert.equal(far, null);
});

test('similar code: a keyword is no sibling name (another kind of statement)', () => {
  assert.equal(complete('var route = this.routes[key];\nother();\nreturn rou█\n'), null);
  assert.equal(complete('if self._text is not None:\n    pass\nvalue = self._t█\n'), null);
});

test('similar code: a line typed to the end of its groups goes on as lines with the same head do after as many groups', () => {
  assert.deepEqual(topLevelCloses('f(a, [b]).g(c)'), [9, 14]);
  assert.deepEqual(topLevelCloses("log(')', x)"), [11], 'a bracket in a string is text');
  assert.equal(topLevelCloses('f(a, g(b)'), undefined, 'a group left open');
  assert.equal(topLevelCloses('a)'), undefined, 'a group closed that was not opened');
  // No line starts like the last one and its last tokens recur nowhere: two lines with the same
  // head end after their first group with ";".
  const answer = complete('assert.equal(total, 3);\nassert.equal(count(rows), 2);\nassert.equal(last, first)█\n');
  assert.equal(answer?.text, ';');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  // One such line is not enough.
  assert.equal(complete('assert.equal(total, 3);\nassert.equal(last, first)█\n'), null);
});

test('similar code: a line that closes a block goes on as the blocks opened like it close elsewhere', () => {
  const answer = complete('try {\n  run();\n} finally {\n  done();\n}\ntry {\n  other();\n} finally {\n  close();\n}\ntry {\n  third();\n}█\n');
  assert.equal(answer?.text, ' finally {');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  // Blocks of this kind mostly end with the brace: a vote for nothing, though one `} else {`
  // follows the same line above.
  const plain = 'if (a) {\n  f(value);\n} else {\n  g();\n}\nif (b) {\n  f(value);\n}\nif (c) {\n  f(value);\n}\nif (d) {\n  f(value);\n}█\n';
  assert.equal(complete(plain), null);
});

test('similar code: what follows the same shape (any name, number or string) in lines with the same head', () => {
  assert.equal(shapeOf("test('adds', () => {"), 'a(s,()=>{');
  assert.equal(shapeOf("x = 1.5 + 'it\\'s'"), 'a=0+s', 'a number with its dot, an escaped quote inside a string');
  assert.equal(shapeOf("test('add"), "a('a", 'a string left open');
  assert.equal(shapeEnd("test('adds', () => {", 4, true), 13, 'after the space that follows');
  assert.equal(shapeEnd('set(first, enabled);', 5, false, 'en'), 13, 'inside the name being typed');
  assert.equal(shapeEnd('set(first, other);', 5, false, 'en'), undefined);
  assert.equal(shapeEnd('set(first)', 4, false), undefined, 'nothing follows');
  // The strings differ from line to line, so no line starts with what was typed nor holds its tail.
  const answer = complete("test('adds', () => {\n});\ntest('removes', () => {\n});\ntest('renames', █\n");
  assert.equal(answer?.text.split('\n')[0], '() => {');
  assert.ok(answer.confidence >= 0.5, String(answer.confidence));
  assert.equal(complete("test('adds', () => {\n});\ntest('renames', █\n"), null, 'one line of that shape is not enough');
});

test('similar code: a continuation that only looked-up code (index snippets) supports is held to a higher bar', () => {
  const cursor = at('import x from "y";\nconst server = createServer(h█\n');
  const source = doc('file:///b.ts', 'const server = createServer(handler, { port: 8080 });\n');
  const ask = (query: { others?: ReturnType<typeof doc>[]; lookedUp?: ReturnType<typeof doc>[] }) =>
    new SimilarCodeEngine({ eager: true }).complete({ document: doc('file:///a.ts', cursor.text), offset: cursor.offset, others: query.others ?? [], ...(query.lookedUp && { lookedUp: query.lookedUp }) });
  const open = ask({ others: [source] });
  const found = ask({ lookedUp: [source] });
  assert.equal(found?.text, open?.text);
  assert.equal(found!.confidence, open!.confidence * LOOKED_UP_FACTOR);
  // Where an open document agrees, the looked-up code costs nothing.
  const both = ask({ others: [source], lookedUp: [doc('file:///c.ts', source.text)] });
  assert.equal(both?.text, open?.text);
  assert.ok(both!.confidence >= open!.confidence, `${both!.confidence} < ${open!.confidence}`);
});
