-- Next edit ("tab, tab, tab"): after the user edits, asks the daemon where the next edit is,
-- shows it in place when near the cursor and as a sign with a marker when not, and on accept
-- jumps there, applies it and asks again, walking the chain. A suggestion in a file that is not
-- open comes without edits, only a jump: accepting opens the file there and asks again from it.
local client = require('caret.client')
local features = require('caret.features')
local plan = require('caret.nextedit_plan')

local M = {}

local ns = vim.api.nvim_create_namespace('caret.nextedit')
M.ns = ns

local current = nil -- { bufnr, suggestion, edits = { [uri] = {edit...} } }
local cancel_inflight = nil
local timer = nil
local seq = 0
-- The changedtick an accept left behind: its TextChanged is ours, and the chain request is sent.
local own_tick = {}

local function enabled()
  return client.opts and client.opts.next_edit.enabled
end

function M.current() return current end

local function version_of(bufnr)
  local versions = vim.lsp.util.buf_versions
  return versions and versions[bufnr] or vim.api.nvim_buf_get_changedtick(bufnr)
end

local function bufnr_of(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if vim.api.nvim_buf_is_loaded(bufnr) then return bufnr end
  return nil
end

local function clear_marks()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_valid(bufnr) then vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1) end
  end
end

--- Clears the suggestion; reports a rejection when `reject`.
function M.clear(reject)
  if current and reject then
    client.notify_daemon('caret/nextEdit/didReject', { id = current.suggestion.id })
  end
  current = nil
  clear_marks()
end

local function keys_hint()
  local km = client.opts.keymaps
  local key = type(km) == 'table' and km.next_edit_accept
  if type(key) == 'string' then return key end
  return ':CaretNextEdit accept'
end

local function draw()
  clear_marks()
  if not current then return end
  local bufnr = current.bufnr
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local marks = plan.render(current.suggestion, vim.uri_from_bufnr(bufnr), lines, row, {
    encoding = client.encoding(),
    inline = features.inline_virt_text,
    inline_distance = client.opts.next_edit.inline_distance,
    sign_text = client.opts.next_edit.sign_text,
    hint = keys_hint(),
  })
  for _, mark in ipairs(marks) do
    pcall(vim.api.nvim_buf_set_extmark, bufnr, ns, mark[1], mark[2], mark[3])
  end
end

local function show(bufnr, result)
  if type(result) ~= 'table' or type(result.edits) ~= 'table' or (#result.edits == 0 and not plan.is_jump_only(result)) then
    M.clear(false)
    return
  end
  -- Drop the suggestion if any edit was computed for a version that is no longer current.
  for _, edit in ipairs(result.edits) do
    local target = bufnr_of(edit.textDocument.uri)
    if not target or version_of(target) ~= edit.textDocument.version then return end
  end
  if vim.api.nvim_get_current_buf() ~= bufnr then return end
  M.clear(false)
  current = { bufnr = bufnr, suggestion = result }
  draw()
end

--- Asks the daemon for the next edit at the cursor.
function M.request()
  local bufnr = vim.api.nvim_get_current_buf()
  if not enabled() or not client.buffers[bufnr] or not client.get() then return end
  if cancel_inflight then cancel_inflight() end
  local pos = vim.api.nvim_win_get_cursor(0)
  local line = vim.api.nvim_buf_get_lines(bufnr, pos[1] - 1, pos[1], false)[1] or ''
  seq = seq + 1
  local mine = seq
  local version = version_of(bufnr)
  cancel_inflight = client.request('caret/nextEdit', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version },
    position = { line = pos[1] - 1, character = require('caret.text').from_byte(line, pos[2], client.encoding()) },
  }, function(err, result)
    if mine ~= seq then return end
    cancel_inflight = nil
    if err then return end
    if version_of(bufnr) ~= version then return end
    show(bufnr, result)
  end, bufnr)
end

local function schedule()
  if not enabled() then return end
  if timer then timer:stop() end
  timer = timer or vim.loop.new_timer()
  timer:start(client.opts.next_edit.debounce_ms, 0, vim.schedule_wrap(function()
    -- Ghost text has the floor while it is shown.
    if require('caret.completion').current() then return end
    M.request()
  end))
end

--- Asks again from `bufnr` once caret serves it. Opening a file attaches it from the BufRead and
--- BufEnter autocmds, which have usually run by now; if not, the next tick, when they have.
local function request_when_attached(bufnr)
  if client.buffers[bufnr] then
    M.request()
    return
  end
  vim.schedule(function()
    if vim.api.nvim_get_current_buf() == bufnr then M.request() end
  end)
end

--- Accepts a jump-only suggestion: opens its file (the daemon then hears didOpen) with the
--- cursor at the site, and asks again from there, which gives the edit with the file's version.
local function accept_jump(suggestion)
  local jump = suggestion.jump
  local fname = vim.uri_to_fname(jump.uri)
  -- The index may name a file deleted since: :edit would open an empty new buffer in its place.
  if vim.fn.bufloaded(fname) == 0 and vim.fn.filereadable(fname) == 0 then
    client.notify('caret: ' .. fname .. ' no longer exists', vim.log.levels.WARN)
    return
  end
  if vim.api.nvim_buf_get_name(0) ~= fname then
    -- :edit, as the user would: the file is read, goes through BufRead (where caret attaches
    -- it) and the place left goes on the jumplist.
    local ok, err = pcall(vim.cmd, 'edit ' .. vim.fn.fnameescape(fname))
    if not ok then
      client.notify('caret: ' .. tostring(err), vim.log.levels.WARN)
      return
    end
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local row, col = plan.jump_target(jump.position, lines, client.encoding())
  pcall(vim.api.nvim_win_set_cursor, 0, { row + 1, col })
  -- Loading the file is no edit of the user's: a TextChanged it may fire must not clear the
  -- suggestion the request below brings.
  own_tick[bufnr] = vim.api.nvim_buf_get_changedtick(bufnr)
  client.notify_daemon('caret/nextEdit/didAccept', { id = suggestion.id })
  request_when_attached(bufnr)
end

--- Jumps to the suggested edit and applies it, then asks for the next one. Returns false when
--- there is nothing to accept.
function M.accept()
  if not current then return false end
  local suggestion = current.suggestion
  current = nil
  clear_marks()
  if plan.is_jump_only(suggestion) then
    accept_jump(suggestion)
    return true
  end
  local by_uri, order = plan.group_by_document(suggestion.edits)
  local encoding = client.encoding()
  local first = suggestion.edits[1]
  for _, uri in ipairs(order) do
    local bufnr = vim.uri_to_bufnr(uri)
    if not vim.api.nvim_buf_is_loaded(bufnr) then vim.fn.bufload(bufnr) end
    local edits = {}
    for _, edit in ipairs(by_uri[uri]) do table.insert(edits, { range = edit.range, newText = edit.newText }) end
    vim.lsp.util.apply_text_edits(edits, bufnr, encoding)
  end
  -- Land after the first edit's new text, in its window (opening the file if need be).
  local target = vim.uri_to_bufnr(first.textDocument.uri)
  if vim.api.nvim_get_current_buf() ~= target then
    vim.cmd('buffer ' .. target)
  end
  local lines = vim.api.nvim_buf_get_lines(target, 0, -1, false)
  local row, col = plan.end_of_edit(first, lines, encoding)
  pcall(vim.api.nvim_win_set_cursor, 0, { row + 1, col })
  own_tick[target] = vim.api.nvim_buf_get_changedtick(target)
  client.notify_daemon('caret/nextEdit/didAccept', { id = suggestion.id })
  M.request()
  return true
end

function M.dismiss()
  if not current then return false end
  M.clear(true)
  return true
end

function M.setup_autocmds(group)
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'InsertLeave' }, {
    group = group,
    callback = function(args)
      if not client.buffers[args.buf] then return end
      if own_tick[args.buf] == vim.api.nvim_buf_get_changedtick(args.buf) then return end
      own_tick[args.buf] = nil
      if current then M.clear(false) end
      schedule()
    end,
  })
  vim.api.nvim_create_autocmd('CursorMoved', {
    group = group,
    callback = function() if current then draw() end end,
  })
end

return M
