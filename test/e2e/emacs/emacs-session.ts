// Batch Emacs for the tests and the benchmark: caret.el installed the way docs/plugins.md tells
// users to (package-install-file into a private package directory), then ERT or a script.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDaemonInfo } from '../../../daemon/server/index.js';
import { cliPath, repoRoot, type TestEnv } from '../../helpers/index.js';

export const packageFile = join(repoRoot, 'plugins/emacs/caret.el');
export const e2eDir = join(repoRoot, 'test/e2e/emacs');

export function emacsVersion(): string | undefined {
  const result = spawnSync('emacs', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0] : undefined;
}

/** Elisp that installs caret.el with package-install-file into `packageDir` and loads it. */
export function installForm(packageDir: string): string {
  return [
    '(progn',
    `(setq package-user-dir ${JSON.stringify(packageDir)} package-archives nil)`,
    '(package-initialize)',
    `(unless (package-installed-p 'caret) (package-install-file ${JSON.stringify(packageFile)}))`,
    "(require 'caret)",
    `(unless (string-prefix-p (file-truename ${JSON.stringify(packageDir)}) (file-truename (locate-library "caret"))) (error "caret was not loaded from the installed package")))`,
  ].join(' ');
}

export interface EmacsRun {
  code: number | null;
  output: string;
}

/** Runs batch Emacs with caret installed, then `args`; resolves when it exits. */
export function runEmacs(testEnv: TestEnv, args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 240_000): Promise<EmacsRun> {
  const packageDir = join(testEnv.dir, 'elpa');
  mkdirSync(packageDir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn('emacs', ['-Q', '--batch', '--eval', installForm(packageDir), ...args], {
      env: { ...testEnv.env, CARET_TEST_NODE: process.execPath, CARET_TEST_CLI: cliPath, ...extraEnv },
      cwd: testEnv.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Stops the daemon the editor's `caret lsp` started in this test's folders. */
export function stopDaemon(testEnv: TestEnv): void {
  const pid = readDaemonInfo(testEnv.paths)?.pid;
  spawnSync(process.execPath, [cliPath, 'stop'], { env: testEnv.env, timeout: 10_000 });
  if (!pid) return;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!stat.includes(') Z')) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The fixture project: two small JavaScript files in a git-marked root. */
const fixture: Record<string, string> = {
  'src/shapes.js': [
    'export function areaOfSquare(side) {',
    '  return side * side;',
    '}',
    '',
    'export function areaOfRectangle(width, height) {',
    '  return width * height;',
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
};

/** Writes the fixture project under `dir`; returns its root. */
export function writeFixture(dir: string): string {
  const root = join(dir, 'project');
  mkdirSync(join(root, '.git'), { recursive: true });
  for (const [path, text] of Object.entries(fixture)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

