import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listMethods, PROTOCOL_VERSION, renderJsonSchema, renderProtocolMarkdown } from '../../protocol/index.js';
import { repoRoot } from '../helpers/index.js';

test('docs/protocol.md and protocol/caret.schema.json are up to date (run `npm run gen:protocol`)', () => {
  assert.equal(readFileSync(join(repoRoot, 'docs/protocol.md'), 'utf8'), renderProtocolMarkdown(), 'docs/protocol.md is stale');
  assert.equal(readFileSync(join(repoRoot, 'protocol/caret.schema.json'), 'utf8'), renderJsonSchema(), 'protocol/caret.schema.json is stale');
});

test('every method is documented, versioned and has schemas', () => {
  const semver = /^\d+\.\d+\.\d+$/;
  assert.match(PROTOCOL_VERSION, semver);
  for (const spec of listMethods()) {
    assert.ok(spec.doc.length > 30, `${spec.method}: doc too short`);
    assert.match(spec.since, semver, spec.method);
    assert.ok(spec.params, `${spec.method}: params schema`);
    if (spec.kind === 'request') assert.ok(spec.result, `${spec.method}: result schema`);
    assert.ok(!spec.method.startsWith('caret/') || /^caret\/[a-z]/.test(spec.method), spec.method);
  }
});

test('the generated JSON Schema is valid JSON with every method', () => {
  const schema = JSON.parse(renderJsonSchema()) as { definitions: Record<string, unknown> };
  assert.deepEqual(Object.keys(schema.definitions).sort(), listMethods().map((s) => s.method).sort());
});
