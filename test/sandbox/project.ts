// A small real TypeScript project for toolchain tests: a git repository with a tsconfig, a
// `node --test` suite run by `npm test`, and the real TypeScript compiler of this repository
// linked into its node_modules (read through, never copied, as a dependency folder would be).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/index.js';

export function makeProject(root: string): void {
  const write = (path: string, text: string) => {
    fs.mkdirSync(join(root, path, '..'), { recursive: true });
    fs.writeFileSync(join(root, path), text);
  };
  write('package.json', JSON.stringify({ name: 'fixture', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test test/' } }, null, 2) + '\n');
  write('tsconfig.json', JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', types: [] }, include: ['src'] }, null, 2) + '\n');
  write('src/math.ts', 'export function add(a: number, b: number): number {\n  return a + b;\n}\n');
  write('src/use.ts', "import { add } from './math.js';\n\nexport const three: number = add(1, 2);\n");
  write('lib/sum.mjs', 'export function sum(values) {\n  return values.reduce((a, b) => a + b, 0);\n}\n');
  write('test/sum.test.mjs', "import test from 'node:test';\nimport assert from 'node:assert/strict';\nimport { sum } from '../lib/sum.mjs';\n\ntest('sums', () => assert.equal(sum([1, 2, 3]), 6));\ntest('sums nothing', () => assert.equal(sum([]), 0));\n");
  write('.gitignore', 'node_modules/\n');
  fs.mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
  fs.symlinkSync(join(repoRoot, 'node_modules', 'typescript'), join(root, 'node_modules', 'typescript'));
  fs.symlinkSync('../typescript/bin/tsc', join(root, 'node_modules', '.bin', 'tsc'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Fixture', '-c', 'user.email=fixture@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd: root, stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'fixture');
}

/** The same edits, applied by a test to the shadow and to the plain copy. */
export const projectEdits: Array<[path: string, text: string | null]> = [
  ['src/math.ts', 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport const broken: number = "not a number";\n'],
  ['lib/sum.mjs', 'export function sum(values) {\n  return values.reduce((a, b) => a + b, 1);\n}\n'],
  ['src/extra.ts', 'export const extra = 1;\n'],
  ['src/use.ts', null],
];

/** Output with what legitimately differs between two runs (timings, the directory) taken out. */
export function normalise(text: string, dir: string): string {
  return text
    .split(dir).join('<dir>')
    .replace(/duration_ms:? [\d.]+/g, 'duration_ms <t>')
    .replace(/\(\d+(\.\d+)?m?s\)/g, '(<t>)')
    .replace(/# duration_ms .*/g, '');
}
