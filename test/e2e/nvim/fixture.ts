// A small project for the editor tests, written fresh for each test, and the daemon's lifecycle.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDaemonInfo } from '../../../daemon/server/index.js';
import { cliPath, makeTestEnv, type TestEnv } from '../../helpers/index.js';
import { NvimSession } from './nvim-session.js';

export const fixtureFiles: Record<string, string> = {
  'src/shapes.js': [
    'export function areaOfSquare(side) {',
    '  return side * side;',
    '}',
    '',
    'export function areaOfRectangle(width, height) {',
    '  return width * height;',
    '}',
    '',
    'export function perimeterOfSquare(side) {',
    '  return 4 * side;',
    '}',
    '',
  ].join('\n'),
  'src/totals.js': [
    'export function sumPrices(items) {',
    '  let count = 0;',
    '  for (const item of items) count += item.price;',
    '  return count;',
    '}',
    '',
    'export function sumWeights(items) {',
    '  let count = 0;',
    '  for (const item of items) count += item.weight;',
    '  return count;',
    '}',
    '',
  ].join('\n'),
  'README.md': '# shapes\n\nA fixture project: areas and perimeters.\n',
};

/** Writes the fixture project (a git-marked root) under the test's folder; returns its path. */
export function writeFixture(testEnv: TestEnv, files: Record<string, string> = fixtureFiles): string {
  const root = join(testEnv.dir, 'project');
  mkdirSync(join(root, '.git'), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** The pid of the daemon the editor's `caret lsp` started, if one runs. */
export function daemonPid(testEnv: TestEnv): number | undefined {
  return readDaemonInfo(testEnv.paths)?.pid;
}

/** Whether `pid` runs (a zombie nobody reaped yet counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Stops the daemon the editor started (`caret stop`), then kills it if it lingers. */
export function stopDaemon(testEnv: TestEnv): void {
  const pid = daemonPid(testEnv);
  spawnSync(process.execPath, [cliPath, 'stop'], { env: testEnv.env, timeout: 10_000 });
  if (pid && isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
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
