import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { grammarFor, stopSyntaxWorker, syntaxErrorCounts } from '../../daemon/apply/index.js';

after(() => stopSyntaxWorker());

test('grammars are found by language id, then by extension', () => {
  assert.equal(grammarFor('file:///a/x.unknown', 'typescriptreact'), 'tsx');
  assert.equal(grammarFor('file:///a/x.py'), 'python');
  assert.equal(grammarFor('file:///a/Makefile'), undefined);
  assert.equal(grammarFor('file:///a/x.txt', 'plaintext'), undefined);
});

test('the incremental reparse counts the same errors as a full parse of the result', async () => {
  const before = 'function a() {\n  return 1;\n}\n\nfunction b(x) {\n  return x * 2;\n}\n\nconst c = [1, 2, 3];\n';
  const results = [
    before.replace('return 1;', 'return (1;'),
    before.replace('return 1;', 'return 1; }').replace('[1, 2, 3]', '[1, 2, 3'),
    before.replace('x * 2', 'x * 3'),
    before.replace('function b(x) {\n  return x * 2;\n}\n', ''),
    'fresh(' + before,
  ];
  for (const result of results) {
    const incremental = await syntaxErrorCounts('javascript', [before, result]);
    const full = await syntaxErrorCounts('javascript', [result, result]);
    assert.ok(incremental && full);
    assert.equal(incremental[0], 0);
    assert.equal(incremental[1], full[0], result);
  }
  assert.deepEqual(await syntaxErrorCounts('python', ['def f():\n    return 1\n', 'def f(:\n    return 1\n']), [0, 1]);
  assert.equal(await syntaxErrorCounts('no-such-grammar', ['a', 'b']), null, 'no grammar: the check passes');
});
