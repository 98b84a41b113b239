// Apply end to end: a sketch with elided code goes from a register (or a selection) to the real
// daemon, its hunks stream into a review in the target buffer, and each is accepted or rejected.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestEnv } from '../../helpers/index.js';
import { editAndWaitReady, fixtureFiles, startFixtureEditor, stopFixtureEditor } from './fixture.js';
import { NvimSession, nvimAvailable } from './nvim-session.js';

const sketch = [
  '// ... existing code ...',
  'export function areaOfRectangle(width, height) {',
  '  return height * width;',
  '}',
  '',
  'export function perimeterOfSquare(side) {',
  '  return side * 4;',
  '}',
  '',
  'export function perimeterOfRectangle(width, height) {',
  '  return 2 * (width + height);',
  '}',
  '',
].join('\n');

describe('nvim plugin: apply review', { skip: !nvimAvailable() && 'nvim is not installed (apt-get install neovim)' }, () => {
  let testEnv: TestEnv;
  let root: string;
  let nvim: NvimSession;
  const file = () => join(root, 'src/shapes.js');

  before(async () => {
    ({ testEnv, root, nvim } = await startFixtureEditor());
    await editAndWaitReady(nvim, file());
  });

  after(async () => {
    await stopFixtureEditor(testEnv, nvim);
  });

  const pendingHunks = () =>
    nvim.lua<number>(`
      local r = require('caret.apply').review()
      if not r then return 0 end
      local n = 0
      for _, e in ipairs(r.hunks) do if e.state == 'pending' then n = n + 1 end end
      return n
    `);

  it('applies a sketch from a register: hunks shown, one accepted by key, one rejected by command', async () => {
    await nvim.lua("vim.fn.setreg('a', ...)", sketch);
    await nvim.command('CaretApply a');
    await nvim.waitFor("local r = require('caret.apply').review(); return r and r.done", 'the apply result');
    assert.equal(await pendingHunks(), 2);
    // The buffer is unchanged until the user decides; the hunks are drawn in it.
    assert.equal((await nvim.lines()).join('\n') + '\n', fixtureFiles['src/shapes.js']);
    const marks = await nvim.lua<number>("return #vim.api.nvim_buf_get_extmarks(0, require('caret.apply').ns, 0, -1, {})");
    assert.ok(marks >= 4, `hunks are drawn (${marks} marks)`);
    // First hunk (areaOfRectangle's body): reject it with the command.
    await nvim.command('normal! gg');
    await nvim.command('CaretReview reject');
    assert.equal(await pendingHunks(), 1);
    // The cursor moved to the remaining hunk; accept it with the review key.
    await nvim.input('<M-a>');
    await nvim.waitFor("return require('caret.apply').review() == nil", 'the review to finish');
    const text = (await nvim.lines()).join('\n');
    assert.match(text, /return width \* height;/, 'the rejected hunk left the code alone');
    assert.match(text, /return side \* 4;/);
    assert.match(text, /export function perimeterOfRectangle\(width, height\) \{\n {2}return 2 \* \(width \+ height\);\n\}/);
    assert.match(text, /^export function areaOfSquare/, 'elided code kept');
    // Review keys were buffer-local and are gone with the review.
    assert.equal(await nvim.lua("return vim.fn.maparg('<M-a>', 'n')"), '');
  });

  it('applies a visual selection from another window to the file in the previous window', async () => {
    await nvim.command('silent! undo 0');
    await nvim.command(`edit! ${file()}`);
    await nvim.command('vnew');
    await nvim.lua("vim.api.nvim_buf_set_lines(0, 0, -1, false, vim.split(..., '\\n'))", sketch);
    await nvim.command('setlocal buftype=nofile');
    await nvim.command('1,$CaretApply');
    await nvim.waitFor("local r = require('caret.apply').review(); return r and r.done", 'the apply result');
    assert.match(await nvim.lua<string>('return vim.api.nvim_buf_get_name(0)'), /shapes\.js$/, 'the target window is focused');
    await nvim.command('CaretReview accept_all');
    await nvim.waitFor("return require('caret.apply').review() == nil", 'the review to finish');
    const text = (await nvim.lines()).join('\n');
    assert.match(text, /return height \* width;/);
    assert.match(text, /perimeterOfRectangle/);
  });

  it('reports a sketch that cannot be placed instead of guessing', async () => {
    await nvim.lua('_G.notes = {}; vim.notify = function(m, l) table.insert(_G.notes, m) end');
    await nvim.lua("vim.fn.setreg('b', ...)", '// ... existing code ...\nfunction nowhere() {\n  return elsewhere();\n}\n// ... existing code ...\n');
    await nvim.command('CaretApply b');
    const notes = await nvim.waitFor<string[]>('return #_G.notes > 0 and _G.notes', 'a notification');
    assert.ok(notes.some((n) => /could not be placed|nothing to change/.test(n)), notes.join('\n'));
    // An empty register is refused with advice, nothing sent.
    await nvim.lua("vim.fn.setreg('c', '')");
    await nvim.command('CaretApply c');
    const all = await nvim.lua<string[]>('return _G.notes');
    assert.ok(all.some((n) => /sketch is empty/.test(n)), all.join('\n'));
  });
});
