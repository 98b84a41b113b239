import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { makeTestEnv, packageVersion, repoRoot, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { conforms, replay, type Transcript } from './transcript.js';

const folder = join(repoRoot, 'test/protocol/transcripts');
const transcripts = readdirSync(folder)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(join(folder, file), 'utf8')) as Transcript);

describe('recorded client sessions still replay', () => {
  let env: TestEnv;
  let daemon: RunningDaemon;
  before(async () => {
    env = makeTestEnv();
    daemon = await startTestDaemon(env);
  });
  after(async () => {
    await daemon.stop('done');
    env.cleanup();
  });

  test('there are transcripts to replay', () => assert.ok(transcripts.length >= 4));

  test('replay notices a changed answer', async () => {
    const original = transcripts.find((t) => t.name === 'documents-utf8')!;
    const tampered: Transcript = structuredClone(original);
    const reply = tampered.entries.find((e) => e.from === 'server' && typeof e.message.result?.text === 'string')!;
    reply.message.result.text += 'x';
    assert.equal((await replay(tampered, env.paths.socketPath, packageVersion)).length, 1);
  });

  test('minor-version growth conforms; changes and removals do not', () => {
    assert.ok(conforms({ a: 1, list: ['x'] }, { a: 1, b: 2, list: ['x', 'y'] }));
    assert.ok(conforms({ error: { code: 1, message: 'old words' } }, { error: { code: 1, message: 'new words' } }));
    assert.ok(!conforms({ a: 1 }, { a: 2 }));
    assert.ok(!conforms({ list: ['x', 'y'] }, { list: ['x'] }));
    assert.ok(!conforms({ error: { code: 1 } }, { error: { code: 2 } }));
  });

  for (const transcript of transcripts) {
    test(`${transcript.name}: ${transcript.description}`, async () => {
      const mismatches = await replay(transcript, env.paths.socketPath, packageVersion);
      assert.deepEqual(mismatches, [], `the daemon no longer answers ${transcript.name} as recorded`);
    });
  }
});
