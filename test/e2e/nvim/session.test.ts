// The plugin's connection to a real daemon in a real headless Neovim: attach and buffer sync,
// recovery when the daemon is killed mid-session, daemon messages, :checkhealth and the statusline.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, type TestEnv } from '../../helpers/index.js';
import { daemonPid, editAndWaitReady, isAlive, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

const daemonText = (nvim: NvimSession) =>
  nvim.lua<string | null>(`
    local client = require('caret.client')
    local result = client.request_sync('caret/document/text', { textDocument = { uri = vim.uri_from_bufnr(0) } }, 3000)
    return result and result.text or vim.NIL
  `);

describe('nvim plugin: connection', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  it('starts the daemon through `caret lsp`, attaches the buffer and keeps the daemon in sync', async () => {
    await editAndWaitReady(nvim, join(root, 'src/shapes.js'));
    assert.equal(await nvim.lua("return #vim.lsp.buf_get_clients(0) == 1 and vim.lsp.buf_get_clients(0)[vim.tbl_keys(vim.lsp.buf_get_clients(0))[1]].name or 'none'"), 'caret');
    assert.ok(daemonPid(testEnv), 'the relay started a daemon');
    // Type in insert mode: incremental changes reach the daemon.
    await nvim.feed('Goconst unit = 1;<Esc>');
    await nvim.feed('ggAéè<Esc>');
    const expected = (await nvim.lines()).join('\n') + '\n';
    assert.equal(await daemonText(nvim), expected);
    const status = await nvim.lua<{ state: string; server_version: string }>("return require('caret').status()");
    assert.equal(status.state, 'ready');
    assert.match(status.server_version, /^\d+\.\d+\.\d+/);
    assert.match(await nvim.lua<string>("return require('caret').statusline()"), /^caret(: (scanning|indexing)( \d+%)?)?$/);
  });

  it('recovers when the daemon is killed: the client restarts and the buffers are reopened', async () => {
    const before = daemonPid(testEnv)!;
    await nvim.command(`split ${join(root, 'src/totals.js')}`);
    await nvim.waitFor("return vim.tbl_count(require('caret.client').buffers) == 2", 'the second buffer to attach');
    const oldClient = await nvim.lua<number>("return require('caret.client').client_id");
    process.kill(before, 'SIGKILL');
    await nvim.waitFor(`return require('caret.client').client_id ~= ${oldClient} and require('caret.client').state == 'ready'`, 'a new client', 20_000);
    const after = daemonPid(testEnv);
    assert.ok(after && after !== before && isAlive(after), 'a new daemon runs');
    assert.ok(!isAlive(before));
    // Keep working: both buffers were reopened with their current text, and edits flow again.
    await nvim.feed('Go// after the restart<Esc>');
    assert.equal(await daemonText(nvim), (await nvim.lines()).join('\n') + '\n');
    await nvim.command('wincmd j');
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(0)'), /shapes\.js$/);
    assert.equal(await daemonText(nvim), (await nvim.lines()).join('\n') + '\n');
  });

  it('shows daemon messages through vim.notify', async () => {
    await nvim.lua(`
      _G.caret_notes = {}
      vim.notify = function(msg, level) table.insert(_G.caret_notes, { msg = msg, level = level }) end
      local handler = require('caret.client').get().handlers['window/showMessage']
      handler(nil, { type = 2, message = 'the index is rebuilding' }, {})
    `);
    const notes = await nvim.waitFor<Array<{ msg: string; level: number }>>('return #_G.caret_notes > 0 and _G.caret_notes', 'a notification');
    assert.equal(notes[0]!.msg, 'caret: the index is rebuilding');
    assert.equal(notes[0]!.level, 3 /* vim.log.levels.WARN */);
  });

  it(':checkhealth caret finds the daemon, its version and the doctor checks', async () => {
    await nvim.command('checkhealth caret');
    const report = (await nvim.lines()).join('\n');
    assert.match(report, /caret: editor/);
    assert.match(report, /OK:? Neovim \d+\.\d+\.\d+/);
    assert.match(report, /OK:? daemon \d+\.\d+\.\d+ \(protocol/);
    assert.match(report, /caret: doctor/);
    assert.doesNotMatch(report, /ERROR/);
    await nvim.command('bwipeout');
  });

  it('does not attach to buffers without a file or of excluded filetypes', async () => {
    await nvim.command('enew');
    await sleep(50);
    assert.equal(await nvim.lua('return #vim.lsp.buf_get_clients(0)'), 0);
    await nvim.command('setfiletype help');
    assert.equal(await nvim.lua('return #vim.lsp.buf_get_clients(0)'), 0);
  });
});
