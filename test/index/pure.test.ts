// Direct tests of the index's pure parts: identifier tokens, Merkle tree, chunking, globs,
// rank fusion, match location and the debounced change queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasSplitIdentifier, identifierParts, identifierTokens, trigramMatchExpression, wordsForText, wordsMatchExpression } from '../../daemon/index/identifiers.js';
import { buildMerkleTree, diffMerkleTrees } from '../../daemon/index/merkle.js';
import { chunkFile, CHUNKER_VERSION, type OutlineNode } from '../../daemon/index/chunk.js';
import { compilePathGlobs } from '../../daemon/index/glob.js';
import { ChangeQueue, type ChangeBatch } from '../../daemon/index/change-queue.js';
import { locateMatch, reciprocalRankFusion } from '../../daemon/index/index.js';
import { contentHash } from '../../daemon/index/hash.js';

test('identifiers split at case changes, underscores and digits', () => {
  assert.deepEqual(identifierParts('getUserName'), ['get', 'user', 'name']);
  assert.deepEqual(identifierParts('get_user_name'), ['get', 'user', 'name']);
  assert.deepEqual(identifierParts('HTTPServerError'), ['http', 'server', 'error']);
  assert.deepEqual(identifierParts('__init__'), ['init']);
  assert.deepEqual(identifierParts('utf8Decoder'), ['utf', '8', 'decoder']);
  assert.deepEqual(identifierTokens('parse_config'), ['parseconfig', 'parse', 'config']);
  assert.deepEqual(identifierTokens('x'), ['x']);
  assert.equal(wordsForText('a.fooBar(1)'), 'a foobar foo bar 1');
});

test('camelCase and snake_case spellings of one name give the same joined token', () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 4 }), (words) => {
      const camel = words[0] + words.slice(1).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
      const snake = words.join('_');
      assert.equal(identifierTokens(camel)[0], identifierTokens(snake)[0]);
    }),
  );
});

test('a chunk lists each token once, however many identifiers share it', () => {
  assert.equal(wordsForText('getUser(user); setUser(user_id)'), 'getuser get user setuser set userid id');
  // The same identifiers in the next text are listed again (stamps are per text).
  assert.equal(wordsForText('user getUser'), 'user getuser get');
  assert.equal(wordsForText('ümlautName ÆØÅ'), 'ümlautname ümlaut name æøå');
  assert.equal(wordsForText('  ... '), '');
});

test('the identifier table starts over when full without losing tokens', () => {
  // More distinct identifiers than the table holds, in one text and across texts.
  const many = Array.from({ length: 160_000 }, (_, i) => `id${i}x`).join(' ');
  const words = new Set(wordsForText(many).split(' '));
  assert.ok(words.has('id0x') && words.has('id159999x') && words.has('x'));
  assert.equal(wordsForText('fooBar fooBar'), 'foobar foo bar');
});

test('split identifiers and trigram expressions for substrings', () => {
  assert.equal(hasSplitIdentifier('getUser'), true);
  assert.equal(hasSplitIdentifier('user name'), false);
  // Non-overlapping trigrams, the last one, and every trigram with punctuation (LIKE would skip
  // those around `_`, its wildcard).
  assert.equal(trigramMatchExpression('use_pack'), '"use" AND "se_" AND "e_p" AND "_pa" AND "ack"');
  assert.equal(trigramMatchExpression('a"bc'), '"a""b" AND """bc"');
  assert.equal(trigramMatchExpression('ab'), undefined);
});

test('FTS5 match expressions quote every piece of user input', () => {
  assert.equal(wordsMatchExpression('getUser', true, true, 'joined'), '"getuser"*');
  assert.equal(wordsMatchExpression('getUser name', true, false, 'parts'), '("get" AND "user") AND "name"');
  assert.equal(wordsMatchExpression('getUser', true), '("getuser"* OR ("get" AND "user"))');
  assert.equal(wordsMatchExpression('getUser', true, false), '("getuser" OR ("get" AND "user"))');
  assert.equal(wordsMatchExpression('a b', false), '"a"* OR "b"*');
  assert.equal(wordsMatchExpression('" AND ( NEAR * ^', true), '"and"* AND "near"*');
  assert.equal(wordsMatchExpression('()*"', true), undefined);
});

test('Merkle: identical trees share a root hash; a diff visits only changed subtrees', () => {
  const files = new Map<string, string>();
  for (let d = 0; d < 20; d++) for (let f = 0; f < 20; f++) files.set(`dir${d}/sub/file${f}.ts`, contentHash(`${d}/${f}`));
  const a = buildMerkleTree(files);
  const b = buildMerkleTree(new Map([...files].reverse()));
  assert.equal(a.rootHash, b.rootHash);
  const changed = new Map(files);
  changed.set('dir3/sub/file4.ts', contentHash('new'));
  changed.delete('dir7/sub/file0.ts');
  changed.set('dir9/new.ts', contentHash('added'));
  const c = buildMerkleTree(changed);
  assert.notEqual(c.rootHash, a.rootHash);
  const diff = diffMerkleTrees(a, c);
  assert.deepEqual(diff.changed, ['dir3/sub/file4.ts']);
  assert.deepEqual(diff.removed, ['dir7/sub/file0.ts']);
  assert.deepEqual(diff.added, ['dir9/new.ts']);
  // root + dir3, dir3/sub, dir7, dir7/sub, dir9: 6 of the 41 directories.
  assert.equal(diff.visitedDirs, 6);
  assert.equal(diffMerkleTrees(a, b).visitedDirs, 0);
});

test('Merkle: moving a file changes the root hash; renaming a directory too', () => {
  const a = buildMerkleTree(new Map([['x/a.ts', 'h1'], ['y/b.ts', 'h2']]));
  const b = buildMerkleTree(new Map([['x/b.ts', 'h2'], ['y/a.ts', 'h1']]));
  assert.notEqual(a.rootHash, b.rootHash);
  const diff = diffMerkleTrees(a, b);
  assert.deepEqual([...diff.added].sort(), ['x/b.ts', 'y/a.ts']);
  assert.deepEqual([...diff.removed].sort(), ['x/a.ts', 'y/b.ts']);
});

const body = (n: number, name: string) => Array.from({ length: n }, (_, i) => `  const ${name}${i} = compute(${i}, "some text here");`).join('\n');

test('chunks merge small neighbours, split big definitions and cover every line once', () => {
  const parts = [`function small1() { return 1; }`, `function small2() { return 2; }`, `function big() {\n${body(150, 'v')}\n}`, `function small3() { return 3; }`];
  const text = parts.join('\n') + '\n';
  const lines = text.split('\n');
  lines.pop();
  let line = 0;
  const outline: OutlineNode[] = parts.map((part, i) => {
    const count = part.split('\n').length;
    const node: OutlineNode = {
      startLine: line,
      endLine: line + count - 1,
      name: ['small1', 'small2', 'big', 'small3'][i]!,
      children: i === 2 ? Array.from({ length: 150 }, (_, j) => ({ startLine: line + 1 + j, endLine: line + 1 + j, children: [] })) : [],
    };
    line += count;
    return node;
  });
  const chunks = chunkFile(text, outline);
  // Coverage: consecutive, no gaps, no overlaps.
  assert.equal(chunks[0]!.startLine, 0);
  for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]!.startLine, chunks[i - 1]!.endLine + 1);
  assert.equal(chunks.at(-1)!.endLine, lines.length - 1);
  // The two small functions share a chunk; the big one is split and its pieces know their container.
  assert.deepEqual(chunks[0]!.defines, ['small1', 'small2']);
  const inner = chunks.filter((chunk) => chunk.container.join('.') === 'big');
  assert.ok(inner.length >= 2, `big() split into ${inner.length}`);
  for (const chunk of chunks) {
    const size = chunk.content.replace(/\s/g, '').length;
    assert.ok(size <= 2000, `chunk of ${size} non-whitespace chars`);
  }
  // Ids are content hashes with the chunker version.
  assert.equal(chunks[0]!.id, contentHash(`${CHUNKER_VERSION}\0${chunks[0]!.content}`));
  assert.deepEqual(chunkFile(text, outline).map((c) => c.id), chunks.map((c) => c.id));
});

test('line windows cover files without syntax, and an empty file has no chunks', () => {
  const text = Array.from({ length: 1000 }, (_, i) => `line ${i} with some words in it`).join('\n');
  const chunks = chunkFile(text, undefined);
  assert.ok(chunks.length > 5);
  assert.equal(chunks[0]!.startLine, 0);
  assert.equal(chunks.at(-1)!.endLine, 999);
  for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]!.startLine, chunks[i - 1]!.endLine + 1);
  assert.deepEqual(chunkFile('', undefined), []);
  assert.equal(chunkFile('x', undefined).length, 1);
});

test('chunking covers every line for arbitrary outlines', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(40), fc.nat(5)), { maxLength: 20 }), fc.integer({ min: 1, max: 200 }), (spans, lineCount) => {
      const text = Array.from({ length: lineCount }, (_, i) => 'x'.repeat(1 + ((i * 37) % 90))).join('\n') + '\n';
      const outline = spans.map(([start, length]) => ({ startLine: start, endLine: start + length, children: [] })).sort((a, b) => a.startLine - b.startLine);
      const chunks = chunkFile(text, outline, { maxChars: 300 });
      assert.equal(chunks[0]!.startLine, 0);
      for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i]!.startLine, chunks[i - 1]!.endLine + 1);
      assert.equal(chunks.at(-1)!.endLine, lineCount - 1);
    }),
  );
});

test('path globs', () => {
  const match = (patterns: string[], path: string) => compilePathGlobs(patterns)!(path);
  assert.ok(match(['*.ts'], 'src/deep/a.ts'));
  assert.ok(!match(['*.ts'], 'src/a.tsx'));
  assert.ok(match(['src/**/*.ts'], 'src/a.ts'));
  assert.ok(match(['src/**/*.ts'], 'src/x/y/a.ts'));
  assert.ok(!match(['src/*.ts'], 'src/x/a.ts'));
  assert.ok(match(['src/'], 'src/x/a.ts'));
  assert.ok(match(['*.{ts,py}'], 'a.py'));
  assert.ok(!match(['*.ts', '!test/**'], 'test/a.ts'));
  assert.ok(match(['!test/**'], 'src/a.ts'));
  assert.ok(match(['a[0-9].js'], 'a5.js'));
  assert.ok(match(['(x)+.js'], '(x)+.js'));
  assert.equal(compilePathGlobs([]), undefined);
});

test('reciprocal rank fusion favours items ranked well by both lists', () => {
  const fused = reciprocalRankFusion([[1, 2, 3], [3, 1, 4]]);
  assert.deepEqual(fused.map((x) => x.id), [1, 3, 2, 4]);
  assert.ok(fused[0]!.score > fused[1]!.score);
  assert.deepEqual(reciprocalRankFusion([]), []);
});

test('locateMatch finds the query, else an identifier part, in UTF-16 columns', () => {
  assert.deepEqual(locateMatch('a\n  const getUserName = 1;', 'getusername'), { line: 1, start: 8, end: 19 });
  assert.deepEqual(locateMatch('é😀 fooBar', 'foo_bar'), { line: 0, start: 4, end: 7 });
  assert.equal(locateMatch('nothing', 'zzz'), undefined);
});

test('the change queue debounces, caps the wait and turns bursts into one full resync', () => {
  const timers: Array<{ callback: () => void; ms: number } | undefined> = [];
  const batches: ChangeBatch[] = [];
  const queue = new ChangeQueue({
    debounceMs: 100,
    maxWaitMs: 1000,
    burstLimit: 5,
    flush: (batch) => batches.push(batch),
    setTimer: (callback, ms) => timers.push({ callback, ms }) - 1,
    clearTimer: (id) => (timers[id as number] = undefined),
  });
  const fire = () => {
    const live = timers.findLastIndex((t) => t !== undefined);
    const timer = timers[live]!;
    timers[live] = undefined;
    timer.callback();
  };
  queue.push('a', 0);
  queue.push('b', 50);
  queue.push('a', 90);
  assert.equal(timers.filter(Boolean).length, 1);
  fire();
  assert.deepEqual(batches, [{ full: false, paths: ['a', 'b'], reason: '2 changed path(s)' }]);
  // A steady trickle still flushes by maxWait.
  queue.push('c', 0);
  queue.push('d', 950);
  assert.equal(timers.filter(Boolean)[0]!.ms, 50);
  fire();
  // A burst becomes one full resync.
  for (let i = 0; i < 10_000; i++) queue.push(`f${i}`, 2000);
  fire();
  assert.equal(batches.length, 3);
  assert.deepEqual(batches[2], { full: true, paths: [], reason: 'burst of more than 5 changes' });
  queue.dispose();
});
