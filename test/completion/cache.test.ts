import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache, hashText } from '../../daemon/completion/index.js';

test('cache: keys are short hashes of the windows around the cursor, not copies of the document', () => {
  const cache = new CompletionCache({ prefixWindow: 4000, suffixWindow: 2000 });
  const before = 'a'.repeat(10_000);
  const after = 'b'.repeat(10_000);
  const key = cache.key('file:///x.ts', before, after);
  assert.ok(key.length < 60, `key of ${key.length} characters`);
  // Text outside the windows does not change the key; text inside them does, at either end.
  assert.equal(cache.key('file:///x.ts', 'z' + before, after + 'z'), key);
  assert.notEqual(cache.key('file:///x.ts', before.slice(0, 6000) + 'z' + before.slice(6001), after), key);
  assert.notEqual(cache.key('file:///x.ts', before, after.slice(0, 1999) + 'z' + after.slice(2000)), key);
  assert.notEqual(cache.key('file:///y.ts', before, after), key);
  // Hashing in pieces is hashing the whole: what typing-through entries rely on.
  assert.deepEqual(hashText('hello world', 0, 11), hashText('world', 0, 5, hashText('hello ', 0, 6)));
});

test('cache: typing through a suggestion hits near the start of a document and deep into a long one', () => {
  for (const prefix of ['let x = ', `${'// filler\n'.repeat(500)}let x = `]) {
    const cache = new CompletionCache();
    cache.set('u', prefix, ';\n', { insertText: 'compute(1)', replaceLength: 0, engine: 'builtin' });
    for (let typed = 1; typed < 'compute(1)'.length; typed++) {
      assert.equal(cache.get('u', prefix + 'compute(1)'.slice(0, typed), ';\n')?.insertText, 'compute(1)'.slice(typed), `${prefix.length} + ${typed}`);
    }
  }
});
