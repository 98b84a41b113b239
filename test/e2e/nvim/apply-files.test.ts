// Apply across files end to end: one caret/apply request whose hunks touch several files gets a
// review in each affected buffer (one open in another buffer, one not open at all and loaded
// for the review), each hunk decided on its own, and a hunk whose text changed is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, fixtureFiles, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

const shapesSketch = [
  '// ... existing code ...',
  'export function perimeterOfSquare(side) {',
  '  return side * 4;',
  '}',
  '',
].join('\n');

const totalsSketch = [
  '// ... existing code ...',
  'export function sumWeights(items) {',
  '  let total = 0;',
  '  for (const item of items) total += item.weight;',
  '  return total;',
  '}',
  '',
].join('\n');

describe('nvim plugin: apply review across files', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;
  const shapes = () => join(root, 'src/shapes.js');
  const totals = () => join(root, 'src/totals.js');
  const bufOf = (path: string) =>
    nvim.lua<number>(
      "for _, b in ipairs(vim.api.nvim_list_bufs()) do if vim.api.nvim_buf_get_name(b) == ... then return b end end return -1",
      path,
    );
  const linesOf = async (bufnr: number) => (await nvim.lua<string[]>('return vim.api.nvim_buf_get_lines(..., 0, -1, false)', bufnr)).join('\n') + '\n';
  const states = (bufnr: number) =>
    nvim.lua<string[]>(
      "local r = require('caret.apply').review(...); if not r then return {} end local out = {} for _, e in ipairs(r.hunks) do table.insert(out, e.state) end return out",
      bufnr,
    );

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
    await editAndWaitReady(nvim, shapes());
    await nvim.lua('_G.notes = {}; vim.notify = function(m, l) table.insert(_G.notes, m) end');
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  it('reviews hunks in the current buffer and in a file open in another buffer, from one request', async () => {
    await nvim.command(`badd ${totals()}`);
    await nvim.command(`buffer ${totals()}`);
    await nvim.command(`buffer ${shapes()}`);
    const shapesBuf = await bufOf(shapes());
    const totalsBuf = await bufOf(totals());
    await nvim.lua(
      "require('caret.apply').apply({ files = { { bufnr = ..., sketch = select(2, ...) }, { file = select(3, ...), sketch = select(4, ...) } } })",
      shapesBuf, shapesSketch, 'src/totals.js', totalsSketch,
    );
    await nvim.waitFor(
      `local a = require('caret.apply'); local r1, r2 = a.review(${shapesBuf}), a.review(${totalsBuf}); return r1 and r2 and r1.done and r2.done and #r2.hunks > 0`,
      'reviews in both buffers',
    );
    assert.deepEqual(await states(shapesBuf), ['pending']);
    assert.deepEqual(await states(totalsBuf), ['pending']);
    // Nothing changes until decided; the other buffer's hunk is drawn in it.
    assert.equal(await linesOf(totalsBuf), fixtureFiles['src/totals.js']);
    const marks = await nvim.lua<number>(`return #vim.api.nvim_buf_get_extmarks(${totalsBuf}, require('caret.apply').ns, 0, -1, {})`);
    assert.ok(marks >= 2, `the other buffer's hunk is drawn (${marks} marks)`);
    const notes = await nvim.lua<string[]>('return _G.notes');
    assert.ok(notes.some((n) => /hunks also in .*totals\.js/.test(n)), notes.join('\n'));
    // Every pending hunk of the request, in both files, is listed in the quickfix list.
    await nvim.command('CaretReview files');
    const qf = await nvim.lua<number[]>('local out = {} for _, i in ipairs(vim.fn.getqflist()) do table.insert(out, i.bufnr) end return out');
    assert.deepEqual([...qf].sort(), [shapesBuf, totalsBuf].sort());
    await nvim.command('cclose');
    // Reject here; go to the other buffer and accept there with the review key.
    await nvim.command('CaretReview reject');
    await nvim.waitFor(`return require('caret.apply').review(${shapesBuf}) == nil`, 'the first review to finish');
    await nvim.command(`buffer ${totalsBuf}`);
    await nvim.input('<M-a>');
    await nvim.waitFor(`return require('caret.apply').review(${totalsBuf}) == nil`, 'the second review to finish');
    assert.equal(await linesOf(shapesBuf), fixtureFiles['src/shapes.js']);
    const text = await linesOf(totalsBuf);
    assert.match(text, /let total = 0;\n {2}for \(const item of items\) total \+= item\.weight;\n {2}return total;/);
    assert.match(text, /export function sumPrices\(items\) \{\n {2}let count = 0;/, 'elided code kept');
    await nvim.command(`buffer ${shapesBuf}`);
    await nvim.command(`bwipeout! ${totalsBuf}`);
  });

  it('loads a file that is not open when its hunks arrive, and applies them on accept', async () => {
    assert.equal(await bufOf(totals()), -1, 'totals.js is not loaded');
    await nvim.lua("vim.fn.setreg('t', ...)", totalsSketch);
    await nvim.command('CaretApply t src/totals.js');
    await nvim.waitFor(
      `local b = vim.fn.bufnr(${JSON.stringify(totals())}); local r = b > 0 and require('caret.apply').review(b); return r and r.done`,
      'a review in the loaded file',
    );
    const totalsBuf = await bufOf(totals());
    assert.equal(await nvim.lua<boolean>('return vim.bo[...].buflisted', totalsBuf), true, 'the loaded file is listed');
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(0)'), /shapes\.js$/, 'the current window stays where it was');
    assert.equal(await linesOf(totalsBuf), fixtureFiles['src/totals.js']);
    await nvim.lua("require('caret.apply').act('accept_all', ...)", totalsBuf);
    await nvim.waitFor(`return require('caret.apply').review(${totalsBuf}) == nil`, 'the review to finish');
    assert.match(await linesOf(totalsBuf), /return total;/);
    // Accepting edits the buffer; the file on disk is written only when the user writes it.
    assert.equal(readFileSync(totals(), 'utf8'), fixtureFiles['src/totals.js']);
    await nvim.command(`bwipeout! ${totalsBuf}`);
  });

  it('refuses a hunk whose text changed since the daemon proposed it', async () => {
    await nvim.lua("vim.fn.setreg('t', ...)", totalsSketch);
    await nvim.command('CaretApply t src/totals.js');
    await nvim.waitFor(
      `local b = vim.fn.bufnr(${JSON.stringify(totals())}); local r = b > 0 and require('caret.apply').review(b); return r and r.done`,
      'a review in the loaded file',
    );
    const totalsBuf = await bufOf(totals());
    // The user edits inside the hunk's lines (line 9: the loop of sumWeights) before accepting.
    await nvim.lua("vim.api.nvim_buf_set_lines(..., 8, 9, false, { '  for (const item of items) count += item.weight * 2;' })", totalsBuf);
    await nvim.lua('_G.notes = {}');
    await nvim.lua("require('caret.apply').act('accept', ...)", totalsBuf);
    await nvim.waitFor(`return require('caret.apply').review(${totalsBuf}) == nil`, 'the review to finish');
    const text = await linesOf(totalsBuf);
    assert.match(text, /count \+= item\.weight \* 2;/, "the user's edit is kept");
    assert.doesNotMatch(text, /total/);
    const notes = await nvim.lua<string[]>('return _G.notes');
    assert.ok(notes.some((n) => /not applied: the text there changed/.test(n)), notes.join('\n'));
    assert.ok(notes.some((n) => /1 stale/.test(n)), notes.join('\n'));
  });
});
