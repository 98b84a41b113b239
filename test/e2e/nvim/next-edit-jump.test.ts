// Next edit into a file that is not open, end to end: the user renames a function in a real
// Neovim, the daemon's workspace index names the one other file that uses it, and the accept key
// first opens that file at the site (a suggestion with a jump and no edits), then applies the
// rename there.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestEnv, type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, fixtureFiles, recordNotifications, sentParams, stopFixtureEditor, writeFixture } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

interface Position {
  line: number;
  character: number;
}

interface Shown {
  id: string;
  edits: Array<{ textDocument: { uri: string; version: number }; range: { start: Position; end: Position }; newText: string }>;
  jump?: { uri: string; position: Position };
  reason?: string;
}

const labelA = ["export const title = formatLabel('a');", 'export const size = 1;', ''].join('\n');
// The use is on the third line, so that landing on it is more than opening the file.
const labelB = ['// The other page.', 'export const width = 2;', "export const other = formatLabel('b');", ''].join('\n');
const useLine = 2;
// A second pair with another name, for dismissing: independent of the first pair's rename.
const priceC = ["export const cost = formatPrice(3);", ''].join('\n');
const priceD = ["export const fee = formatPrice(4);", ''].join('\n');

// The plugin asks once after an edit; on a loaded machine the index may answer that ask too late
// (the daemon then answers without it), so the test asks again now and then, as a user may
// (:CaretNextEdit), never while a request is in flight.
const askAgainEvery2s = `if not require('caret.nextedit').current() and vim.loop.now() - (_G.asked_at or 0) > 2000 then
         _G.asked_at = vim.loop.now(); require('caret.nextedit').request()
       end`;

describe('nvim plugin: next edit in a file that is not open', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;

  before(async () => {
    testEnv = makeTestEnv();
    root = writeFixture(testEnv, { ...fixtureFiles, 'src/label-a.js': labelA, 'src/label-b.js': labelB, 'src/price-c.js': priceC, 'src/price-d.js': priceD });
    nvim = await NvimSession.start(testEnv, { cwd: root });
    await nvim.waitFor('return true', 'nvim');
    await editAndWaitReady(nvim, join(root, 'src/label-a.js'));
    await recordNotifications(nvim);
    // The site is found through the workspace index: let it index the root first.
    await nvim.waitFor(
      `local result = require('caret.client').request_sync('caret/index/status', vim.empty_dict(), 2000)
       for _, index in ipairs(result and result.indexes or {}) do
         if index.state == 'ready' and index.files >= 4 then return true end
       end
       return false`,
      'the workspace index to be ready',
      60_000,
    );
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  it('opens the other file at the site on accept, then applies the edit there', async () => {
    await nvim.lua("vim.api.nvim_win_set_cursor(0, { 1, (vim.api.nvim_get_current_line():find('formatLabel', 1, true)) - 1 })");
    await nvim.feed('ciwformatTitle<Esc>');
    assert.match((await nvim.lines())[0]!, /formatTitle\('a'\)/);

    // A jump-only suggestion: no edits, a jump into label-b.js, shown as a hint on this line.
    const jump = await nvim.waitFor<Shown>(
      `${askAgainEvery2s}
       local c = require('caret.nextedit').current()
       if not c or #c.suggestion.edits ~= 0 or not c.suggestion.jump then return false end
       if #vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, {}) == 0 then return false end
       return c.suggestion`,
      'a jump-only suggestion',
      30_000,
    );
    assert.deepEqual(jump.edits, []);
    assert.ok(jump.jump!.uri.endsWith('src/label-b.js'), jump.jump!.uri);
    assert.equal(jump.jump!.position.line, useLine);
    const hint = await nvim.lua<string>(
      "local m = vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, { details = true })[1]; return m[4].virt_text[1][1]",
    );
    assert.match(hint, /label-b\.js:3/);
    assert.match(hint, /<M-CR>/);

    // Accept: label-b.js is opened (and served: the daemon heard didOpen), the cursor on the use.
    await nvim.input('<M-CR>');
    await nvim.waitFor("return vim.api.nvim_buf_get_name(0):match('label%-b%.js$') ~= nil", 'label-b.js to open');
    const [row, col] = await nvim.lua<[number, number]>('return vim.api.nvim_win_get_cursor(0)');
    assert.equal(row - 1, useLine);
    // ASCII: the byte column is the character.
    assert.equal(col, jump.jump!.position.character);
    assert.equal(labelB.split('\n')[useLine]!.slice(col, col + 'formatLabel'.length), 'formatLabel');
    assert.equal(
      await nvim.lua<boolean>("local c = require('caret.client'); return c.buffers[vim.api.nvim_get_current_buf()] == true and vim.lsp.buf_is_attached(0, c.client_id)"),
      true,
    );
    const accepted = await sentParams<{ id: string }>(nvim, 'caret/nextEdit/didAccept');
    assert.deepEqual(accepted, [{ id: jump.id }]);

    // Asked again from label-b.js: the edit itself, with the file's version, shown in place.
    const edit = await nvim.waitFor<Shown>(
      `local c = require('caret.nextedit').current()
       if not c or #c.suggestion.edits == 0 then return false end
       if #vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, {}) == 0 then return false end
       return c.suggestion`,
      'the edit in label-b.js',
      30_000,
    );
    assert.ok(edit.edits[0]!.textDocument.uri.endsWith('src/label-b.js'), edit.edits[0]!.textDocument.uri);
    assert.equal(edit.edits[0]!.newText.includes('formatTitle'), true);
    await nvim.input('<M-CR>');
    await nvim.waitFor(`return vim.api.nvim_buf_get_lines(0, 0, -1, false)[${useLine + 1}]:find('formatTitle', 1, true) ~= nil`, 'the edit applied');
    const text = (await nvim.lines()).join('\n');
    assert.match(text, /export const other = formatTitle\('b'\);/);
    assert.doesNotMatch(text, /formatLabel/);
    const acceptedAll = await sentParams<{ id: string }>(nvim, 'caret/nextEdit/didAccept');
    assert.deepEqual(acceptedAll, [{ id: jump.id }, { id: edit.id }]);
  });

  it('dismisses a jump-only suggestion and reports the rejection', async () => {
    await editAndWaitReady(nvim, join(root, 'src/price-c.js'));
    await nvim.lua("vim.api.nvim_win_set_cursor(0, { 1, (vim.api.nvim_get_current_line():find('formatPrice', 1, true)) - 1 })");
    await nvim.feed('ciwformatCost<Esc>');
    const jump = await nvim.waitFor<Shown>(
      `${askAgainEvery2s}
       local c = require('caret.nextedit').current()
       return c and #c.suggestion.edits == 0 and c.suggestion.jump and c.suggestion`,
      'a jump-only suggestion',
      30_000,
    );
    assert.ok(jump.jump!.uri.endsWith('src/price-d.js'), jump.jump!.uri);
    await nvim.input('<M-BS>');
    await nvim.waitFor("return require('caret.nextedit').current() == nil", 'the suggestion to go');
    assert.equal(await nvim.lua("return #vim.api.nvim_buf_get_extmarks(0, require('caret.nextedit').ns, 0, -1, {})"), 0);
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(0)'), /price-c\.js$/);
    const rejected = await sentParams<{ id: string }>(nvim, 'caret/nextEdit/didReject');
    assert.deepEqual(rejected, [{ id: jump.id }]);
  });
});
