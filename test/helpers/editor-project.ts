// The small project the editor tests (Neovim, Emacs) and their benchmarks open, and stopping the
// daemon an editor's `caret lsp` started. Both editors' suites use the same files, so a finding in
// one reads the same in the other.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDaemonInfo } from '../../daemon/server/index.js';
import { cliPath, type TestEnv } from './index.js';

/** Two area functions: completion and apply tests extend them with perimeters. */
export const shapesJs = [
  'export function areaOfSquare(side) {',
  '  return side * side;',
  '}',
  '',
  'export function areaOfRectangle(width, height) {',
  '  return width * height;',
  '}',
  '',
].join('\n');

/** Two sums of the same shape: a rename in one has its next edit in the other. */
export const totalsJs = [
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
].join('\n');

/** Writes `files` (path -> text) as a git-marked project root `dir`/project; returns the root. */
export function writeProject(dir: string, files: Record<string, string>): string {
  const root = join(dir, 'project');
  mkdirSync(join(root, '.git'), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** The pid of the daemon started in this test's folders, if one is recorded. */
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

/** Stops the daemon an editor started in this test's folders (`caret stop`), then kills it if it lingers. */
export function stopDaemon(testEnv: TestEnv): void {
  const pid = daemonPid(testEnv);
  spawnSync(process.execPath, [cliPath, 'stop'], { env: testEnv.env, timeout: 10_000 });
  if (!pid || !isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
