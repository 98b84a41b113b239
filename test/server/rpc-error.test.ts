import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dispatcher, RpcError } from '../../daemon/server/index.js';
import { ErrorCodes } from '../../protocol/index.js';

test('an RpcError keeps its class, so handlers can answer with their own codes', () => {
  const error = new RpcError(ErrorCodes.RequestFailed, 'nope', { why: 1 });
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, ErrorCodes.RequestFailed);
  assert.deepEqual(error.data, { why: 1 });
});

test('a parse error answer has id null', () => {
  const response = Dispatcher.parseError('Unexpected end of JSON input');
  assert.equal(response.id, null);
  assert.equal(response.error?.code, ErrorCodes.ParseError);
});
