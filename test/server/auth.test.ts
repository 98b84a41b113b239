import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureToken } from '../../daemon/server/index.js';
import { originAllowed, tokenFromRequest, tokensEqual } from '../../daemon/server/auth.js';

test('the token comes from the Authorization header or the query', () => {
  assert.equal(tokenFromRequest('Bearer abc', '/rpc'), 'abc');
  assert.equal(tokenFromRequest('bearer  abc ', '/rpc'), 'abc');
  assert.equal(tokenFromRequest(undefined, '/rpc?token=xyz'), 'xyz');
  assert.equal(tokenFromRequest('Basic Zm9v', '/rpc'), undefined);
  assert.equal(tokenFromRequest(undefined, '//'), undefined, 'a malformed request line carries no token');
  assert.equal(tokenFromRequest(undefined, 'http://[::1'), undefined);
});

test('tokens compare in constant time and never match when missing', () => {
  assert.ok(tokensEqual('a'.repeat(64), 'a'.repeat(64)));
  assert.ok(!tokensEqual('a'.repeat(63), 'a'.repeat(64)));
  assert.ok(!tokensEqual(undefined, 'a'));
});

test('no Origin (scripts, editors) passes; web pages only when listed', () => {
  assert.ok(originAllowed(undefined, []));
  assert.ok(!originAllowed('https://example.com', []));
  assert.ok(!originAllowed('null', []));
  assert.ok(originAllowed('http://localhost:5173', ['http://localhost:5173']));
});

test('the token file is created once, private, and its permissions repaired', () => {
  const dir = mkdtempSync('/tmp/caret-token-');
  try {
    const file = join(dir, 'state', 'token');
    const token = ensureToken(file);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(ensureToken(file), token, 'stable across restarts');
    chmodSync(file, 0o644);
    assert.equal(ensureToken(file), token);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'permissions repaired');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
