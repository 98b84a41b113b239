// The editor tests' project (test/helpers/editor-project.ts), written fresh for each test, with a
// headless Neovim started in it.
import { makeTestEnv, type TestEnv } from '../../helpers/index.js';
import { daemonPid, isAlive, shapesJs, stopDaemon, totalsJs, writeProject } from '../../helpers/editor-project.js';
import { NvimSession } from './nvim-session.js';

export { daemonPid, isAlive, stopDaemon };

export const fixtureFiles: Record<string, string> = {
  'src/shapes.js': `${shapesJs}\nexport function perimeterOfSquare(side) {\n  return 4 * side;\n}\n`,
  'src/totals.js': totalsJs,
  'README.md': '# shapes\n\nA fixture project: areas and perimeters.\n',
};

/** Writes the fixture project (a git-marked root) under the test's folder; returns its path. */
export function writeFixture(testEnv: TestEnv, files: Record<string, string> = fixtureFiles): string {
  return writeProject(testEnv.dir, files);
}

/** A fresh fixture project with a headless Neovim started in it (its plugin starts the daemon). */
export async function startFixtureEditor(): Promise<{ testEnv: TestEnv; root: string; nvim: NvimSession }> {
  const testEnv = makeTestEnv();
  const root = writeFixture(testEnv);
  return { testEnv, root, nvim: await NvimSession.start(testEnv, { cwd: root }) };
}

/** Opens `path` in the editor and waits until the plugin's client has initialized. */
export async function editAndWaitReady(nvim: NvimSession, path: string): Promise<void> {
  await nvim.command(`edit ${path}`);
  await nvim.waitFor("return require('caret.client').state == 'ready'", 'the client to initialize');
}

/** Closes the editor, stops the daemon it started and removes the test's folders. */
export async function stopFixtureEditor(testEnv: TestEnv | undefined, nvim: NvimSession | undefined): Promise<void> {
  await nvim?.close();
  if (!testEnv) return;
  stopDaemon(testEnv);
  testEnv.cleanup();
}

/** From now on, every notification the plugin sends the daemon is recorded (see `sentParams`). */
export async function recordNotifications(nvim: NvimSession): Promise<void> {
  await nvim.lua(`
    local client = require('caret.client')
    _G.sent = {}
    local notify = client.notify_daemon
    client.notify_daemon = function(method, params) table.insert(_G.sent, { method = method, params = params }); return notify(method, params) end
  `);
}

/** The params of the recorded notifications of `method`, in order. */
export function sentParams<T>(nvim: NvimSession, method: string): Promise<T[]> {
  return nvim.lua<T[]>(`local o = {}; for _, m in ipairs(_G.sent) do if m.method == '${method}' then table.insert(o, m.params) end end; return o`);
}
