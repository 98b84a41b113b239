// Ghost text end to end: a real daemon on the builtin provider, a real headless Neovim typing
// into a fixture project, the plugin's default keys.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

const ghost = (nvim: NvimSession) =>
  nvim.lua<string | null>(`
    local s = require('caret.completion').current()
    if not s then return vim.NIL end
    local marks = vim.api.nvim_buf_get_extmarks(0, require('caret.completion').ns, 0, -1, { details = true })
    if #marks == 0 then return vim.NIL end
    return s.text
  `);

describe('nvim plugin: ghost text', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
    await editAndWaitReady(nvim, join(root, 'src/totals.js'));
    // Record what the plugin tells the daemon.
    await nvim.lua(`
      local client = require('caret.client')
      _G.sent = {}
      local notify, request = client.notify_daemon, client.request
      client.notify_daemon = function(method, params) table.insert(_G.sent, { method = method, params = params }); return notify(method, params) end
      client.request = function(method, params, cb, bufnr) table.insert(_G.sent, { method = method, params = params }); return request(method, params, cb, bufnr) end
    `);
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  beforeEach(async () => {
    await nvim.input('<Esc>');
    await nvim.lua('_G.sent = {}');
  });

  const sent = (method: string) => nvim.lua<Array<Record<string, unknown>>>(`
    local out = {}
    for _, m in ipairs(_G.sent) do if m.method == ... then table.insert(out, m.params) end end
    return out
  `, method);

  const startLine = async () => {
    await nvim.input('Goexport function sumAges(items) {<CR>let c');
    return nvim.waitFor<string>(`
      local s = require('caret.completion').current()
      return s and #vim.api.nvim_buf_get_extmarks(0, require('caret.completion').ns, 0, -1, {}) > 0 and s.text
    `, 'ghost text');
  };

  it('shows ghost text while typing, and accepts it with the accept key', async () => {
    assert.equal(await startLine(), 'ount = 0;');
    const shown = await sent('caret/inlineCompletion/didShow');
    assert.equal(shown.length, 1);
    await nvim.input('<M-l>');
    await nvim.waitFor("return require('caret.completion').current() == nil", 'the ghost text to go');
    const lines = await nvim.lines();
    assert.match(lines[lines.length - 1]!, /let count = 0;$/);
    assert.deepEqual(await nvim.lua('return vim.api.nvim_win_get_cursor(0)'), [lines.length, lines[lines.length - 1]!.length]);
    // Acceptance reaches the daemon through the item's command, as with a stock client.
    const commands = await sent('workspace/executeCommand');
    assert.equal(commands[0]!.command, 'caret.inlineCompletion.accept');
    assert.deepEqual(commands[0]!.arguments, [shown[0]!.id]);
    assert.equal(await nvim.lua("return vim.api.nvim_get_mode().mode"), 'i');
  });

  it('accepts a word at a time and reports the accepted length', async () => {
    await nvim.input('<Esc>');
    assert.equal(await startLine(), 'ount = 0;');
    await nvim.input('<M-w>');
    await nvim.waitFor("local s = require('caret.completion').current(); return s and s.text == ' = 0;'", 'the rest after one word');
    let lines = await nvim.lines();
    assert.match(lines[lines.length - 1]!, /let count$/);
    const partial = await sent('caret/inlineCompletion/didPartiallyAccept');
    assert.equal(partial.length, 1);
    assert.equal(partial[0]!.acceptedLength, 'ount'.length);
    await nvim.input('<M-w>');
    await nvim.waitFor("local s = require('caret.completion').current(); return s and s.text == ' 0;'", 'the rest after two words');
    await nvim.input('<M-j>'); // the rest of the line
    await nvim.waitFor("return require('caret.completion').current() == nil", 'the suggestion to be used up');
    lines = await nvim.lines();
    assert.match(lines[lines.length - 1]!, /let count = 0;$/);
  });

  it('keeps the suggestion while the user types through it, with no new request', async () => {
    assert.equal(await startLine(), 'ount = 0;');
    await nvim.lua('_G.sent = {}');
    await nvim.input('oun');
    await nvim.waitFor("local s = require('caret.completion').current(); return s and s.text == 't = 0;'", 'the shortened suggestion');
    assert.equal((await sent('textDocument/inlineCompletion')).length, 0);
  });

  it('dismisses and reports the rejection; typing something else rejects too', async () => {
    assert.equal(await startLine(), 'ount = 0;');
    const id = (await sent('caret/inlineCompletion/didShow'))[0]!.id;
    await nvim.input('<M-e>');
    await nvim.waitFor("return require('caret.completion').current() == nil", 'the ghost text to go');
    assert.equal(await ghost(nvim), null);
    assert.deepEqual(await sent('caret/inlineCompletion/didReject'), [{ id }]);
    const lines = await nvim.lines();
    assert.match(lines[lines.length - 1]!, /let c$/);
  });

  it('leaves keys alone when no ghost text is shown, and never takes a mapped key', async () => {
    // <M-l> with nothing shown does exactly what it does unmapped.
    await nvim.command('enew');
    await nvim.input('o<M-l><Esc>');
    await nvim.waitFor("return vim.api.nvim_get_mode().mode == 'n'", 'normal mode');
    const mapped = await nvim.lines();
    await nvim.command('bwipeout! | enew');
    await nvim.lua("vim.keymap.del('i', '<M-l>')");
    await nvim.input('o<M-l><Esc>');
    await nvim.waitFor("return vim.api.nvim_get_mode().mode == 'n'", 'normal mode');
    assert.deepEqual(mapped, await nvim.lines());
    await nvim.command('bwipeout!');
    // A user's own mapping is kept: setup{} skips keys that are taken.
    const kept = await nvim.lua<string>(`
      vim.keymap.set('i', '<M-y>', 'mine')
      require('caret').setup({ cmd = CARET_CMD, keymaps = { accept = '<M-y>' } })
      return vim.fn.maparg('<M-y>', 'i')
    `);
    assert.equal(kept, 'mine');
    assert.equal(await nvim.lua("return vim.fn.maparg('<Tab>', 'i')"), '');
  });
});
