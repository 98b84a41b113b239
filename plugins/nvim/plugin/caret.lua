-- Commands. They work before setup() too (setting caret up with the defaults), so a user who
-- only wants :CaretSearch need not write any configuration.
if vim.g.loaded_caret then return end
vim.g.loaded_caret = true

if vim.fn.has('nvim-0.7') ~= 1 then
  vim.api.nvim_echo({ { 'caret needs Neovim 0.7 or newer', 'ErrorMsg' } }, true, {})
  return
end

local function caret()
  local m = require('caret')
  if not m.did_setup then m.setup({}) end
  return m
end

local command = vim.api.nvim_create_user_command

command('CaretStatus', function()
  local client = require('caret.client')
  caret()
  local lines = { 'caret: ' .. client.state }
  if client.server_version then table.insert(lines, 'daemon ' .. client.server_version) end
  local result = client.request_sync('caret/status', vim.empty_dict(), 2000)
  if result then
    table.insert(lines, string.format('pid %d, up %ds, %d connection(s), roots: %s', result.pid, math.floor(result.uptimeMs / 1000), #result.connections, table.concat(result.roots, ', ')))
  end
  local index = require('caret.statusline').index
  if type(index) == 'table' and index.state then table.insert(lines, 'index: ' .. index.state) end
  vim.api.nvim_echo({ { table.concat(lines, '\n') } }, false, {})
end, { desc = 'caret: connection, daemon and index state' })

command('CaretRestart', function() caret().restart() end, { desc = 'caret: restart the connection to the daemon' })
command('CaretStop', function() caret().stop() end, { desc = 'caret: disconnect this editor (the daemon keeps serving others)' })

command('CaretSearch', function(args) caret().search(args.args) end, { nargs = '+', desc = 'caret: search the workspace into the quickfix list' })

command('CaretApply', function(args)
  caret()
  local apply = require('caret.apply')
  local register, file = require('caret.review_plan').parse_apply_args(args.args)
  if file then
    -- A named target: the sketch is the selection, or the register, and the file need not be open.
    local sketch
    if args.range > 0 then
      sketch = table.concat(vim.api.nvim_buf_get_lines(0, args.line1 - 1, args.line2, false), '\n')
    else
      sketch = vim.fn.getreg(register or '"')
    end
    apply.apply({ file = file, sketch = sketch })
  elseif args.range > 0 then
    local src = vim.api.nvim_get_current_buf()
    local sketch = table.concat(vim.api.nvim_buf_get_lines(src, args.line1 - 1, args.line2, false), '\n')
    local target = apply.target_for_selection(src)
    if not target then
      require('caret.client').notify('caret: no file to apply the selection to: open the target in another window (or make it the alternate file)', vim.log.levels.WARN)
      return
    end
    local win = vim.fn.bufwinid(target)
    if win ~= -1 then vim.api.nvim_set_current_win(win) else vim.cmd('buffer ' .. target) end
    apply.apply({ bufnr = target, sketch = sketch })
  else
    apply.apply({ sketch = vim.fn.getreg(register or '"') })
  end
end, { nargs = '*', range = true, complete = 'file', desc = 'caret: apply a sketch (selection, or a register: + for the clipboard) to this file or the one named' })

command('CaretEdit', function(args)
  caret()
  require('caret.apply').edit({ first = args.line1, last = args.line2, instruction = args.args })
end, { nargs = '+', range = true, desc = 'caret: edit the selected lines as the instruction says' })

local review_actions = { 'accept', 'reject', 'next', 'prev', 'accept_all', 'reject_all', 'files', 'close' }
command('CaretReview', function(args)
  caret()
  require('caret.apply').act(args.args)
end, { nargs = 1, complete = function() return review_actions end, desc = 'caret: decide the hunks of an apply review' })

local next_edit_actions = { 'request', 'accept', 'dismiss' }
command('CaretNextEdit', function(args)
  caret()
  local ne = require('caret.nextedit')
  local action = args.args ~= '' and args.args or 'request'
  if action == 'accept' then ne.accept() elseif action == 'dismiss' then ne.dismiss() else ne.request() end
end, { nargs = '?', complete = function() return next_edit_actions end, desc = 'caret: next edit (request, accept, dismiss)' })
