// The plugin against a daemon that talks to model servers: a local HTTP server plays an
// OpenAI-compatible chat API (for :CaretEdit) and llama.cpp's /infill (for ghost text), speaking
// their documented wire formats (test/models/api-server.ts, shared with the model tests).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { makeTestEnv, type TestEnv } from '../../helpers/index.js';
import { ApiServer, sse, sseHeaders } from '../../models/api-server.js';
import { editAndWaitReady, fixtureFiles, stopFixtureEditor, writeFixture } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

/** An OpenAI chat-completions stream answering `text`, in pieces as a real server sends them. */
function chatAnswer(text: string) {
  return {
    headers: sseHeaders,
    chunks: sse(
      [
        ...text.match(/[\s\S]{1,11}/g)!.map((piece) => ({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })),
        { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 90, completion_tokens: 30 } },
      ],
      true,
    ),
    gapMs: 2,
  };
}

/** A llama.cpp /infill stream answering `text`. */
function infillAnswer(text: string) {
  return {
    headers: sseHeaders,
    chunks: sse([
      ...text.match(/[\s\S]{1,9}/g)!.map((piece) => ({ content: piece, stop: false })),
      { content: '', stop: true, stop_type: 'eos', tokens_evaluated: 80, tokens_predicted: 12 },
    ]),
  };
}

const rewritten = ['export function areaOfRectangle(width, height) {', '  if (width < 0 || height < 0) throw new RangeError("negative side");', '  return width * height;', '}'].join('\n');

describe('nvim plugin: with model servers', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let api: ApiServer;
  let nvim: NvimSession;

  before(async () => {
    api = await ApiServer.start();
    testEnv = makeTestEnv();
    testEnv.writeConfig(
      [
        '[models.chat]',
        'provider = "openai"',
        `url = "${api.url}/v1"`,
        'model = "edit-model"',
        'retries = 0',
        '[models.completion]',
        'provider = "llamacpp"',
        `url = "${api.url}"`,
        'retries = 0',
        '',
      ].join('\n'),
    );
    root = writeFixture(testEnv);
    nvim = await NvimSession.start(testEnv, { cwd: root });
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
    await api?.close();
  });

  beforeEach(async () => {
    await nvim.input('<Esc>');
  });

  it(":'<,'>CaretEdit sends the selection and instruction to the chat model; its hunks are reviewed and accepted", async () => {
    await editAndWaitReady(nvim, join(root, 'src/shapes.js'));
    api.on('POST /v1/chat/completions', chatAnswer('```javascript\n' + rewritten + '\n```\n'));
    // A visual selection of lines 5-7, then the command as a user types it.
    await nvim.feed('5GVjj');
    await nvim.feed(":CaretEdit reject negative sides<CR>", 'tx');
    await nvim.waitFor("local r = require('caret.apply').review(); return r and r.done", 'the edit result');
    const request = api.last('/v1/chat/completions').body as { model: string; messages: Array<{ role: string; content: string }>; stream: boolean };
    assert.equal(request.model, 'edit-model');
    const user = request.messages.find((m) => m.role === 'user')!.content;
    assert.match(user, /Instruction: reject negative sides/);
    assert.match(user, /The selection:\n```javascript\nexport function areaOfRectangle\(width, height\) \{\n {2}return width \* height;\n\}\n```/);
    // The hunk is drawn; the buffer is unchanged until it is accepted.
    const hunks = await nvim.lua<Array<{ newText: string; state: string }>>(`
      local out = {}
      for _, e in ipairs(require('caret.apply').review().hunks) do table.insert(out, { newText = require('caret.review_plan').new_text(e.hunk), state = e.state }) end
      return out
    `);
    assert.deepEqual(hunks, [{ newText: '  if (width < 0 || height < 0) throw new RangeError("negative side");\n', state: 'pending' }]);
    assert.equal((await nvim.lines()).join('\n') + '\n', fixtureFiles['src/shapes.js']);
    const virt = await nvim.lua<string>(`
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, require('caret.apply').ns, 0, -1, { details = true })) do
        for _, l in ipairs(m[4].virt_lines or {}) do table.insert(out, l[1][1]) end
      end
      return table.concat(out, '\\n')
    `);
    assert.match(virt, /throw new RangeError\("negative side"\);/, 'the new line is shown in the buffer');
    await nvim.input('<M-a>');
    await nvim.waitFor("return require('caret.apply').review() == nil", 'the review to finish');
    const lines = await nvim.lines();
    assert.deepEqual(lines.slice(4, 8), rewritten.split('\n'));
    assert.equal(lines[0], 'export function areaOfSquare(side) {', 'the rest of the file kept');
    await nvim.command('silent! undo 0 | write!');
  });

  it(':CaretEdit reports a failing model instead of changing anything', async () => {
    await nvim.lua('_G.notes = {}; vim.notify = function(m, l) table.insert(_G.notes, m) end');
    api.on('POST /v1/chat/completions', { status: 400, chunks: ['{"error":{"message":"model not loaded"}}'] });
    await nvim.command('1,3CaretEdit rename side to length');
    const notes = await nvim.waitFor<string[]>('return #_G.notes > 0 and _G.notes', 'a notification');
    assert.ok(notes.some((n) => /caret\/edit failed: .*model not loaded/.test(n)), notes.join('\n'));
    assert.equal(await nvim.lua("return require('caret.apply').review()"), null);
    assert.equal((await nvim.lines()).join('\n') + '\n', fixtureFiles['src/shapes.js']);
  });

  it('shows a multi-line suggestion from the completion model and accepts it whole', async () => {
    await nvim.command(`edit ${join(root, 'src/totals.js')}`);
    await nvim.waitFor("return require('caret.client').buffers[vim.api.nvim_get_current_buf()] ~= nil", 'the buffer to attach');
    await nvim.command('setlocal expandtab shiftwidth=2 softtabstop=2'); // the project's two-space indent
    api.on('POST /infill', infillAnswer('otal = 0;\n  for (const item of items) total += item.age;\n  return total;'));
    await nvim.input('Goexport function sumAges(items) {<CR>let t');
    const text = await nvim.waitFor<string>(`
      local s = require('caret.completion').current()
      return s and #vim.api.nvim_buf_get_extmarks(0, require('caret.completion').ns, 0, -1, {}) > 0 and s.text
    `, 'ghost text');
    assert.equal(text, 'otal = 0;\n  for (const item of items) total += item.age;\n  return total;');
    const body = api.last('/infill').body as { input_prefix: string; input_suffix: string };
    assert.match(body.input_prefix, /export function sumAges\(items\) \{\n {2}let t$/);
    // Drawn in the editor: the first line at the cursor, the others as virtual lines below.
    const drawn = await nvim.lua<{ inline: string; below: string[] }>(`
      local inline, below = {}, {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, require('caret.completion').ns, 0, -1, { details = true })) do
        for _, chunk in ipairs(m[4].virt_text or {}) do table.insert(inline, chunk[1]) end
        for _, l in ipairs(m[4].virt_lines or {}) do
          local s = {}
          for _, chunk in ipairs(l) do table.insert(s, chunk[1]) end
          table.insert(below, table.concat(s))
        end
      end
      return { inline = table.concat(inline), below = below }
    `);
    assert.match(drawn.inline, /^otal = 0;/);
    assert.deepEqual(drawn.below.map((line) => line.trimEnd()), ['  for (const item of items) total += item.age;', '  return total;']);
    await nvim.input('<M-l>');
    await nvim.waitFor("return require('caret.completion').current() == nil", 'the ghost text to go');
    const lines = await nvim.lines();
    assert.deepEqual(lines.slice(-3), ['  let total = 0;', '  for (const item of items) total += item.age;', '  return total;']);
    assert.deepEqual(await nvim.lua('return vim.api.nvim_win_get_cursor(0)'), [lines.length, '  return total;'.length]);
  });

  // The daemon answers one item per request (its completion service picks the best engine's
  // answer), so a cycle key with one item asks again, as an invoked request. Several items, as
  // another inline-completion server may send, are cycled through in place.
  it('cycles: one item asks the daemon again; several items are stepped through and the shown one accepted', async () => {
    await nvim.lua(`
      local client = require('caret.client')
      _G.triggers = {}
      _G.extra = nil
      local request = client.request
      client.request = function(method, params, cb, bufnr)
        if method ~= 'textDocument/inlineCompletion' then return request(method, params, cb, bufnr) end
        table.insert(_G.triggers, params.context.triggerKind)
        return request(method, params, function(err, result)
          if _G.extra and result and result.items and result.items[1] then
            local alt = vim.deepcopy(result.items[1])
            -- The same range, another text: only the answer differs.
            alt.insertText = alt.insertText:gsub(vim.pesc(_G.extra[1]), _G.extra[2])
            alt.command = nil
            table.insert(result.items, alt)
          end
          cb(err, result)
        end, bufnr)
      end
    `);
    api.on('POST /infill', infillAnswer('otal = 0;'));
    await nvim.input('<Esc>olet t'); // autoindent supplies the two spaces
    await nvim.waitFor("local s = require('caret.completion').current(); return s and s.text == 'otal = 0;'", 'ghost text');
    const before = (await nvim.lua<number[]>('return _G.triggers')).length;
    await nvim.input('<M-n>');
    await nvim.waitFor(`return #_G.triggers > ${before}`, 'a second request');
    assert.equal((await nvim.lua<number[]>('return _G.triggers'))[before], 1, 'the cycle key asks as an invoked request');
    await nvim.waitFor("local s = require('caret.completion').current(); return s and s.text == 'otal = 0;'", 'the same single item');

    await nvim.lua("_G.extra = { 'otal = 0;', 'otal = items.length;' }");
    await nvim.input('<Esc>olet t'); // autoindent supplies the two spaces
    await nvim.waitFor("local c = require('caret.completion'); return c.current() and #vim.api.nvim_buf_get_extmarks(0, c.ns, 0, -1, {}) > 0", 'ghost text');
    assert.equal(await nvim.lua("return require('caret.completion').current().text"), 'otal = 0;');
    await nvim.input('<M-n>');
    await nvim.waitFor("return require('caret.completion').current().text == 'otal = items.length;'", 'the second item');
    const drawn = await nvim.lua<string>(`
      local out = {}
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, require('caret.completion').ns, 0, -1, { details = true })) do
        for _, chunk in ipairs(m[4].virt_text or {}) do table.insert(out, chunk[1]) end
      end
      return table.concat(out)
    `);
    assert.match(drawn, /^otal = items\.length;/, 'the second item is drawn');
    await nvim.input('<M-n>');
    await nvim.waitFor("return require('caret.completion').current().text == 'otal = 0;'", 'back to the first item (wraps)');
    await nvim.input('<M-p>');
    await nvim.waitFor("return require('caret.completion').current().text == 'otal = items.length;'", 'the second item again');
    await nvim.input('<M-l>');
    await nvim.waitFor("return require('caret.completion').current() == nil", 'the ghost text to go');
    const lines = await nvim.lines();
    assert.equal(lines[lines.length - 1], '  let total = items.length;');
  });
});
