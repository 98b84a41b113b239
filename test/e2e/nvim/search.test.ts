// Search end to end: the daemon indexes the fixture project named as the editor's workspace
// folder; :CaretSearch fills the quickfix list; the statusline follows the index state.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

describe('nvim plugin: search and index state', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
    await editAndWaitReady(nvim, join(root, 'src/totals.js'));
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  it('fills the quickfix list with ranked results', async () => {
    // The index of a fresh root may still be building: search until it answers.
    const entries = await nvim.waitFor<Array<{ text: string; lnum: number; bufnr: number }>>(
      `
      if not _G.searching then
        _G.searching = true
        require('caret.search').search('perimeterOfSquare', { callback = function(err, e) _G.searching = false; _G.found = e end })
      end
      return _G.found and #_G.found > 0 and vim.fn.getqflist()
      `,
      'search results',
      30_000,
    );
    assert.ok(entries.length >= 1);
    const first = entries[0]!;
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(...)', first.bufnr), /src\/shapes\.js$/);
    assert.equal(first.lnum, 9);
    assert.match(first.text, /perimeterOfSquare/);
    assert.equal(await nvim.lua("return vim.fn.getqflist({ title = 1 }).title"), 'caret search: perimeterOfSquare');
    assert.equal(await nvim.lua("return vim.bo.buftype"), 'quickfix', 'the quickfix window opened');
    await nvim.command('cclose');
  });

  it('lists results from several files, each entry opening its own file', async () => {
    // Under load the index may still be taking in a file: search again until both answer.
    await nvim.lua('_G.searching = false; _G.found = nil');
    await nvim.waitFor(
      `
      local files = {}
      for _, e in ipairs(_G.found and vim.fn.getqflist() or {}) do files[vim.fn.fnamemodify(vim.api.nvim_buf_get_name(e.bufnr), ':t')] = true end
      if files['shapes.js'] and files['totals.js'] then return true end
      if not _G.searching then
        _G.searching = true
        require('caret.search').search('export function', { callback = function(err, e) _G.searching = false; _G.found = e end })
      end
      return false
      `,
      'results from both files',
      30_000,
    );
    const entries = await nvim.lua<Array<{ bufnr: number; lnum: number; text: string }>>('return vim.fn.getqflist()');
    const names = await nvim.lua<string[]>(`
      local out = {}
      for _, e in ipairs(vim.fn.getqflist()) do table.insert(out, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(e.bufnr), ':t')) end
      return out
    `);
    assert.ok(names.includes('shapes.js') && names.includes('totals.js'), `results from both files: ${names.join(', ')}`);
    // :cc on an entry in the other file opens that file at the entry's line.
    const index = names.indexOf('shapes.js') + 1;
    await nvim.command('cclose');
    await nvim.command(`cc ${index}`);
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(0)'), /src\/shapes\.js$/);
    assert.equal((await nvim.lua<number[]>('return vim.api.nvim_win_get_cursor(0)'))[0], entries[index - 1]!.lnum);
    assert.match((await nvim.lines())[entries[index - 1]!.lnum - 1]!, /export function/);
  });

  it('shows the index state in the statusline component', async () => {
    await nvim.lua("require('caret.index').refresh()");
    await nvim.waitFor("local i = require('caret.statusline').index; return i and i.state == 'ready'", 'the index to be ready', 30_000);
    assert.equal(await nvim.lua("return require('caret').statusline()"), 'caret');
  });

  it('asks for a query instead of searching for nothing', async () => {
    await nvim.lua('_G.notes = {}; vim.notify = function(m) table.insert(_G.notes, m) end');
    await nvim.lua("require('caret').search('')");
    assert.match((await nvim.lua<string[]>('return _G.notes'))[0]!, /needs a query/);
  });
});
