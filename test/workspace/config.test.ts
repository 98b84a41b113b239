import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfigService,
  formatProblem,
  parseConfigText,
  restrictWorkspaceConfig,
  setTrust,
  workspaceConfigFile,
} from '../../daemon/workspace/index.js';
import { makeTestEnv } from '../helpers/index.js';

test('valid TOML gives the values, with defaults for the rest', () => {
  const loaded = parseConfigText('[server.websocket]\nport = 7777\n', 'c.toml');
  assert.deepEqual(loaded.problems, []);
  assert.equal(loaded.config.server?.websocket?.port, 7777);
});

test('problems name the file, the key and the fix; valid keys survive', () => {
  const loaded = parseConfigText('[server]\nidleTimeoutSecond = 5\nmaxMessageBytes = "big"\n[server.websocket]\nport = 70000\nhost = "127.0.0.1"\n', '/u/config.toml');
  const text = loaded.problems.map(formatProblem);
  assert.ok(text.some((t) => t.includes('/u/config.toml: server.idleTimeoutSecond: is not a caret setting') && t.includes('server.idleTimeoutSeconds')), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('/u/config.toml: server.maxMessageBytes:') && t.includes('Set it to an integer')), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('/u/config.toml: server.websocket.port:') && t.includes('from 0 to 65535')), text.join('\n'));
  assert.equal(loaded.config.server?.websocket?.host, '127.0.0.1');
  assert.equal(loaded.config.server?.websocket?.port, undefined);
});

test('a TOML syntax error names the line', () => {
  const loaded = parseConfigText('[server\nport = 1', 'x.toml');
  assert.equal(loaded.problems.length, 1);
  assert.match(formatProblem(loaded.problems[0]!), /x\.toml: is not valid TOML at line 1/);
});

test('a workspace file cannot set daemon-wide settings', () => {
  const restricted = restrictWorkspaceConfig({ server: { websocket: { allowedOrigins: ['https://evil.example'] } } }, 'ws/.caret/config.toml', true);
  assert.deepEqual(restricted.config, {});
  assert.match(formatProblem(restricted.problems[0]!), /server: is a daemon-wide setting/);
});

test('the service merges user and workspace files, reloads on change and keeps the last good config', async () => {
  const env = makeTestEnv();
  const keepAlive = setInterval(() => undefined, 1000); // the service's file polling does not hold the loop open
  try {
    const root = join(env.dir, 'project');
    mkdirSync(join(root, '.caret'), { recursive: true });
    env.writeConfig('[log]\nlevel = "debug"\n');
    const service = new ConfigService({ userFile: env.paths.configFile, trustFile: env.paths.trustFile, pollMs: 20 });
    service.addRoot(root);
    service.watch();
    assert.equal(service.get(root).log.level, 'debug');
    assert.equal(service.get(root).server.websocket.host, '127.0.0.1');
    // Polling takes its first look a moment after watch(); write until the change is seen
    // (a change before that first look is not a change to the poller).
    const changeAfter = async (write: () => void) => {
      const seen = new Promise((resolve) => service.once('change', resolve));
      for (let tries = 0; tries < 50; tries++) {
        write();
        if (await Promise.race([seen.then(() => true), sleep(100).then(() => false)])) return;
      }
      assert.fail('the config change was never noticed');
    };
    await changeAfter(() => env.writeConfig('[log]\nlevel = "warn"\n'));
    assert.equal(service.get().log.level, 'warn');
    // A broken file keeps the last good contents and reports the problem.
    await changeAfter(() => env.writeConfig('[log\nlevel = '));
    assert.equal(service.get().log.level, 'warn');
    assert.equal(service.problems().length, 1);
    // Trust is read from the trust file.
    assert.equal(service.isTrusted(root), false);
    setTrust(env.paths.trustFile, root, true);
    service.reload();
    assert.equal(service.isTrusted(root), true);
    assert.equal(service.isTrusted(join(root, 'sub')), true);
    assert.equal(service.isTrusted(env.dir), false);
    writeFileSync(workspaceConfigFile(root), '[server]\nidleTimeoutSeconds = 1\n');
    service.reload();
    assert.equal(service.get(root).server.idleTimeoutSeconds, 900, 'workspace cannot set server keys');
    assert.ok(service.problems().some((p) => p.key === 'server' && p.severity === 'warning'));
    service.dispose();
  } finally {
    clearInterval(keepAlive);
    env.cleanup();
  }
});
