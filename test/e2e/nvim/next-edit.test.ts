// Next edit end to end: the user renames a variable in a real Neovim, the builtin provider
// proposes the analogous sites, and the accept key walks the chain.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, recordNotifications, sentParams, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

interface Shown {
  id: string;
  edits: Array<{ range: { start: { line: number; character: number } }; newText: string }>;
}

describe('nvim plugin: next edit', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
    await nvim.waitFor('return true', 'nvim');
    await editAndWaitReady(nvim, join(root, 'src/totals.js'));
    await recordNotifications(nvim);
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  const suggestion = () =>
    nvim.waitFor<Shown>(
      `local c = require('caret.nextedit').current()
       return c and #vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, {}) > 0 and c.suggestion`,
      'a next-edit suggestion',
    );

  it('shows the predicted edit after a rename, and the accept key walks the chain', async () => {
    await nvim.feed('2G^wciwtotal<Esc>');
    const first = await suggestion();
    assert.equal(first.edits[0]!.newText, 'total');
    const before = await nvim.lines();
    await nvim.input('<M-CR>');
    await nvim.waitFor(`return vim.api.nvim_buf_get_lines(0, 0, -1, false)[${first.edits[0]!.range.start.line + 1}]:find('total', 1, true) ~= nil`, 'the edit applied');
    const afterFirst = await nvim.lines();
    assert.notDeepEqual(afterFirst, before);
    // The cursor lands at the end of the applied text.
    const [row, col] = await nvim.lua<[number, number]>('return vim.api.nvim_win_get_cursor(0)');
    assert.equal(row - 1, first.edits[0]!.range.start.line);
    assert.equal(afterFirst[row - 1]!.slice(col - 'total'.length, col), 'total');
    const accepted = await sentParams<{ id: string }>(nvim, 'caret/nextEdit/didAccept');
    assert.deepEqual(accepted, [{ id: first.id }]);
    // Tab, tab, tab: keep accepting while the daemon proposes; every `count` becomes `total`.
    let steps = 0;
    while (steps < 10) {
      const more = await nvim
        .waitFor<Shown>("local c = require('caret.nextedit').current(); return c and c.suggestion", 'the next link', 2000)
        .catch(() => null);
      if (!more) break;
      await nvim.input('<M-CR>');
      await nvim.waitFor(`return require('caret.nextedit').current() == nil or require('caret.nextedit').current().suggestion.id ~= '${more.id}'`, 'the link accepted');
      steps++;
    }
    assert.ok(steps >= 1, 'the chain went on after the first accept');
    const text = (await nvim.lines()).slice(0, 5).join('\n');
    assert.doesNotMatch(text, /\bcount\b/);
    assert.match(text, /return total;/);
  });

  it('dismisses a suggestion and reports the rejection', async () => {
    await nvim.feed('8G^wciwsum<Esc>');
    const shown = await suggestion();
    await nvim.input('<M-BS>');
    await nvim.waitFor("return require('caret.nextedit').current() == nil", 'the suggestion to go');
    assert.equal(await nvim.lua("return #vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, {})"), 0);
    const rejected = await sentParams<{ id: string }>(nvim, 'caret/nextEdit/didReject');
    assert.deepEqual(rejected, [{ id: shown.id }]);
  });

  it('drops a suggestion once the buffer changes under it', async () => {
    await nvim.lua(`
      local ne = require('caret.nextedit')
      ne.clear(false)
    `);
    await nvim.feed('9G^wciwamount<Esc>');
    await suggestion();
    await nvim.feed('Go// more<Esc>');
    // Stale now: the suggestion was computed for an older version; a fresh one may follow.
    const version = await nvim.lua<number>('return vim.lsp.util.buf_versions[vim.api.nvim_get_current_buf()]');
    await nvim.waitFor(
      `local c = require('caret.nextedit').current()
       return c == nil or c.suggestion.edits[1].textDocument.version == ${version}`,
      'no stale suggestion',
    );
  });
});
