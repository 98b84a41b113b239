// Runs the plugin's Lua unit tests (plugins/nvim/test/unit/*_spec.lua) inside a real Neovim with
// the plugin's own minimal runner, and checks that they ran and passed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nvimAvailable, pluginDir } from './nvim-session.js';

describe('nvim plugin: Lua unit tests', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  it('pass inside Neovim', () => {
    const run = spawnSync(
      'nvim',
      ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${pluginDir}`, '-c', `luafile ${pluginDir}/test/runner.lua`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const output = `${run.stdout}${run.stderr}`;
    const summary = /(\d+) passed, (\d+) failed/.exec(output);
    assert.ok(summary, `the runner printed no summary:\n${output}`);
    assert.equal(Number(summary[2]), 0, output);
    assert.ok(Number(summary[1]) >= 40, `only ${summary[1]} Lua tests ran`);
    assert.equal(run.status, 0, output);
  });

  it('treats a run that selects no test as a failure', () => {
    const run = spawnSync(
      'nvim',
      ['--headless', '-u', 'NONE', '-i', 'NONE', '--cmd', `set rtp^=${pluginDir}`, '-c', `luafile ${pluginDir}/test/runner.lua`],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CARET_TEST_FILTER: 'no test has this name' } },
    );
    // Nothing selected counts as a failure too: a runner that runs nothing must not pass.
    assert.notEqual(run.status, 0);
    assert.match(`${run.stdout}${run.stderr}`, /0 passed, 0 failed/);
  });
});

describe('nvim plugin: help file', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  it('doc/tags is what :helptags generates, and every |link| names a tag', () => {
    const dir = mkdtempSync('/tmp/caret-help-');
    try {
      cpSync(join(pluginDir, 'doc/caret.txt'), join(dir, 'caret.txt'));
      const run = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-c', `helptags ${dir}`, '-c', 'qall'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(run.status, 0, run.stderr);
      const generated = readFileSync(join(dir, 'tags'), 'utf8');
      assert.equal(readFileSync(join(pluginDir, 'doc/tags'), 'utf8'), generated, 'run :helptags plugins/nvim/doc and commit doc/tags');
      const tags = new Set(generated.split('\n').map((line) => line.split('\t')[0]));
      const text = readFileSync(join(pluginDir, 'doc/caret.txt'), 'utf8');
      // Links to Neovim's own help (vim.notify, vim.lsp.inline_completion) are not ours to define.
      const links = [...text.matchAll(/\|([^|\s]+)\|/g)].map((m) => m[1]!).filter((tag) => !tag.startsWith('vim.'));
      for (const link of links) assert.ok(tags.has(link), `|${link}| has no tag`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
