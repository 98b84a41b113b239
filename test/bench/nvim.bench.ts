// Keystroke to ghost text in headless Neovim with the builtin provider: how much time the plugin
// (and the editor's LSP client and the `caret lsp` relay) adds on top of the daemon's own answer.
//
// Each sample retypes a line in a real Neovim; the plugin's tracer stamps the change event, the
// request leaving, the response arriving and the ghost text drawn, and vim.on_key stamps the
// keystroke. Side by side, the same request is sent straight to the daemon over its socket
// (vscode-jsonrpc), which is the daemon's own time. Reported:
//   plugin Lua time   = (request sent - change seen) + (ghost drawn - response in)
//   keystroke->ghost  = ghost drawn - key pressed, in Neovim
//   daemon direct     = round trip of the same request from node
//   added on top      = keystroke->ghost - daemon direct (plugin + Neovim's LSP client + relay)
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectUnix, initializeParams, makeTestEnv, sleep } from '../helpers/index.js';
import { stopDaemon, writeFixture } from '../e2e/nvim/fixture.js';
import { NvimSession, nvimAvailable, nvimVersion } from '../e2e/nvim/nvim-session.js';

const samples = Number(process.argv.find((a) => a.startsWith('--samples='))?.slice(10) ?? 150);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const fmt = (values: number[]) => `p50 ${quantile(values, 0.5).toFixed(2)} ms  p99 ${quantile(values, 0.99).toFixed(2)} ms`;

async function main(): Promise<void> {
  if (!nvimAvailable()) {
    console.log('nvim is not installed; skipping');
    return;
  }
  const testEnv = makeTestEnv();
  const root = writeFixture(testEnv);
  const file = join(root, 'src/totals.js');
  const nvim = await NvimSession.start(testEnv, { cwd: root });
  try {
    await nvim.command(`edit ${file}`);
    await nvim.waitFor("return require('caret.client').state == 'ready'", 'the client');
    await nvim.lua(`
      _G.bench = { records = {}, key = 0 }
      local hr = function() return vim.loop.hrtime() / 1e3 end -- microseconds, as a float
      require('caret.completion').tracer = function(event)
        local t = hr()
        if event == 'change' then
          table.insert(_G.bench.records, { key = _G.bench.key, change = t })
        else
          local r = _G.bench.records[#_G.bench.records]
          if r and r[event] == nil then r[event] = t end
        end
      end
      vim.on_key(function() _G.bench.key = hr() end, vim.api.nvim_create_namespace('caret.bench'))
    `);
    await nvim.input('Goexport function sumAges(items) {<CR>');
    await sleep(200);

    // The daemon's own time: the same request straight over its socket.
    const direct = await connectUnix(testEnv.paths.socketPath);
    await direct.sendRequest('initialize', initializeParams({ capabilities: { general: { positionEncodings: ['utf-16'] }, textDocument: { inlineCompletion: {} } } }));
    direct.sendNotification('initialized', {});
    const uri = 'file://' + join(root, 'src/direct-copy.js');
    direct.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: (await nvim.lines()).join('\n') + '\n' } });

    const pluginMs: number[] = [];
    const totalMs: number[] = [];
    const directMs: number[] = [];
    let version = 1;
    let directEmpty = 0;
    for (let i = 0; i < samples; i++) {
      // In Neovim: type the start of a line on a fresh line; wait for its ghost text. (A rejected
      // suggestion is not offered again at the same spot, so each sample accepts it and moves on,
      // as a user would.)
      await nvim.lua('_G.bench.records = {}');
      await nvim.input('<C-u>  let c');
      const record = await nvim.waitFor<Record<string, number>>(
        `local rs = _G.bench.records
         for i = #rs, 1, -1 do if rs[i].shown and rs[i].sent then return rs[i] end end
         return false`,
        'ghost text',
        5000,
      );
      pluginMs.push(((record.sent! - record.change!) + (record.shown! - record.response!)) / 1e3);
      totalMs.push((record.shown! - record.key!) / 1e3);
      // The daemon gets exactly the text Neovim had, so both paths ask the same question.
      const [sampleText, sampleLine] = await nvim.lua<[string, number]>(
        "return { table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n') .. '\\n', vim.api.nvim_win_get_cursor(0)[1] - 1 }",
      );
      await nvim.input('<M-l><CR>');
      await nvim.waitFor("return vim.api.nvim_get_current_line():match('^%s*$') ~= nil", 'a fresh line', 5000);
      // Straight to the daemon, with the same kind of change first.
      version++;
      direct.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text: sampleText }] });
      const started = process.hrtime.bigint();
      const answer = await direct.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: sampleLine, character: 7 }, context: { triggerKind: 2 } });
      directMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!answer || ((answer as { items?: unknown[] }).items ?? []).length === 0) directEmpty++;
    }
    direct.dispose();
    const added = totalMs.map((t, i) => t - directMs[i]!);
    console.log(`${nvimVersion()}, ${samples} samples, builtin provider (${directEmpty} direct answers were empty)`);
    console.log(`plugin Lua time (request out + draw):   ${fmt(pluginMs)}`);
    console.log(`keystroke -> ghost text in Neovim:      ${fmt(totalMs)}`);
    console.log(`daemon direct round trip (same request): ${fmt(directMs)}`);
    console.log(`added on top of the daemon:             ${fmt(added)}  (goal: p50 under 5 ms)`);
    console.log(`ratio keystroke->ghost / daemon direct: p50 ${(quantile(totalMs, 0.5) / quantile(directMs, 0.5)).toFixed(2)}x`);
  } finally {
    await nvim.close();
    stopDaemon(testEnv);
    testEnv.cleanup();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
