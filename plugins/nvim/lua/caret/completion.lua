-- Ghost text: asks the daemon for inline completions as the user types (it debounces, caches
-- and cancels; the plugin only forwards), draws the chosen item, lets the user accept all of it,
-- a word or a line, cycle through items or dismiss, and reports what became of it.
local client = require('caret.client')
local features = require('caret.features')
local suggestion = require('caret.suggestion')
local text = require('caret.text')

local M = {}

local ns = vim.api.nvim_create_namespace('caret.ghost')
M.ns = ns

-- The suggestion on screen: { bufnr, states = {...}, index, shown = { id = true } }.
local current = nil
local cancel_inflight = nil
local timer = nil
-- Ticks the plugin caused itself (accepting text), so the change they make is not typing.
local own_tick = {}
local last = { tick = -1, row = -1, col = -1 }
local request_seq = 0

--- Benchmark hook: when set, called as tracer(event, bufnr) at 'change', 'sent', 'response'
--- and 'shown'.
M.tracer = nil

local function trace(event, bufnr)
  if M.tracer then M.tracer(event, bufnr) end
end

local function enabled()
  return client.opts and client.opts.completion.enabled and client.opts.completion.engine == 'caret'
end

local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function clear_marks(bufnr)
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1) end
end

local function state_of(entry)
  return entry and entry.states[entry.index]
end

--- The suggestion being shown, if any (for keymaps and tests).
function M.current()
  return state_of(current)
end

local function report_reject(entry)
  local state = state_of(entry)
  if state and state.id and entry.shown[state.id] then
    client.notify_daemon('caret/inlineCompletion/didReject', { id = state.id })
  end
end

local function draw()
  local state = state_of(current)
  if not state then return end
  local bufnr = current.bufnr
  clear_marks(bufnr)
  if client.opts.completion.hide_during_pum and vim.fn.pumvisible() == 1 then return end
  local line = vim.api.nvim_buf_get_lines(bufnr, state.row, state.row + 1, false)[1] or ''
  local marks = suggestion.render(state, line, features.inline_virt_text, vim.bo[bufnr].tabstop)
  for _, mark in ipairs(marks) do
    pcall(vim.api.nvim_buf_set_extmark, bufnr, ns, state.row, mark[1], mark[2])
  end
  if state.id and not current.shown[state.id] then
    current.shown[state.id] = true
    client.notify_daemon('caret/inlineCompletion/didShow', { id = state.id })
  end
  trace('shown', bufnr)
end

--- Removes the ghost text; reports a rejection unless `accepted`.
function M.clear(accepted)
  if cancel_inflight then
    cancel_inflight()
    cancel_inflight = nil
  end
  if current then
    if not accepted then report_reject(current) end
    clear_marks(current.bufnr)
    current = nil
  end
end

local function show(bufnr, items, tick)
  if vim.api.nvim_get_current_buf() ~= bufnr or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then return end
  if not vim.api.nvim_get_mode().mode:match('^i') then return end
  local row, col = cursor()
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local states = {}
  for _, item in ipairs(items) do
    local state = suggestion.from_item(item, lines, row, col, client.encoding())
    if state then table.insert(states, state) end
  end
  if #states == 0 then return end
  M.clear(false)
  current = { bufnr = bufnr, states = states, index = 1, shown = {} }
  draw()
end

--- Asks the daemon for ghost text at the cursor. `trigger_kind` 1 means the user asked.
function M.request(trigger_kind)
  local bufnr = vim.api.nvim_get_current_buf()
  if not client.buffers[bufnr] or not client.get() then return end
  if cancel_inflight then
    cancel_inflight()
    cancel_inflight = nil
  end
  local row, col = cursor()
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = text.from_byte(line, col, client.encoding()) },
    context = { triggerKind = trigger_kind or 2 },
  }
  request_seq = request_seq + 1
  local seq = request_seq
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  cancel_inflight = client.request('textDocument/inlineCompletion', params, function(err, result)
    trace('response', bufnr)
    if seq ~= request_seq then return end
    cancel_inflight = nil
    if err then
      -- Superseded or cancelled requests are routine; anything else is worth a log line.
      if err.code ~= -32800 and err.code ~= -32002 then
        vim.lsp.log.warn('caret inlineCompletion failed', err)
      end
      return
    end
    show(bufnr, suggestion.items_of(result), tick)
  end, bufnr)
  trace('sent', bufnr)
end

local function schedule_request()
  local delay = client.opts.completion.debounce_ms or 0
  if delay <= 0 then return M.request(2) end
  if timer then timer:stop() end
  timer = timer or vim.loop.new_timer()
  timer:start(delay, 0, vim.schedule_wrap(function() M.request(2) end))
end

--- Called on every insert-mode change and cursor move.
function M.on_change()
  if not enabled() then return end
  local bufnr = vim.api.nvim_get_current_buf()
  if not client.buffers[bufnr] then return end
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local row, col = cursor()
  if tick == last.tick and row == last.row and col == last.col then return end
  local changed = tick ~= last.tick
  last = { tick = tick, row = row, col = col }
  trace('change', bufnr)
  local state = state_of(current)
  if own_tick[bufnr] == tick then
    -- Our own accept: keep what remains of the suggestion on screen.
    own_tick[bufnr] = nil
    if state then draw() else schedule_request() end
    return
  end
  if state and current.bufnr == bufnr then
    if not changed and row == state.row and col == state.col then return end
    if changed and row == state.row and col > state.col then
      local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
      local typed = line:sub(state.col + 1, col)
      local rest = suggestion.advance(state, typed)
      if rest then
        -- Typing through the suggestion: it stays, shortened, with no new request.
        current.states[current.index] = rest
        draw()
        return
      end
    end
    M.clear(false)
  end
  if changed then schedule_request() end
end

--- Accepts all of the suggestion, its next word or its next line. Returns false when none is shown.
function M.accept(kind)
  local state = state_of(current)
  if not state then return false end
  local bufnr = current.bufnr
  local piece, replace, rest = suggestion.take(state, kind or 'all')
  local lines = text.split_lines(piece)
  local line = vim.api.nvim_buf_get_lines(bufnr, state.row, state.row + 1, false)[1] or ''
  local end_col = math.min(state.col + replace, #line)
  vim.api.nvim_buf_set_text(bufnr, state.row, state.col, state.row, end_col, lines)
  local row = state.row + #lines - 1
  local col = #lines == 1 and state.col + #piece or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  own_tick[bufnr] = vim.api.nvim_buf_get_changedtick(bufnr)
  local accepted_total = (state.lead or '') .. state.accepted_text .. piece
  local item = state.item
  if rest then
    current.states = { rest }
    current.index = 1
    if state.id then
      client.notify_daemon('caret/inlineCompletion/didPartiallyAccept', {
        id = state.id,
        acceptedLength = text.length(accepted_total, client.encoding()),
      })
    end
  else
    clear_marks(bufnr)
    current = nil
    -- What a stock client does after inserting: run the item's command.
    if item.command and item.command.command then
      client.request('workspace/executeCommand', { command = item.command.command, arguments = item.command.arguments }, function() end, bufnr)
    end
  end
  return true
end

--- Shows the next (+1) or previous (-1) item; asks the daemon for more when there is only one.
function M.cycle(step)
  if not current or #current.states < 2 then
    M.request(1)
    return
  end
  current.index = (current.index - 1 + step) % #current.states + 1
  draw()
end

function M.dismiss()
  if not current then return false end
  M.clear(false)
  return true
end

--- Redraws after the popup menu closes.
function M.redraw()
  if current then draw() end
end

function M.setup_autocmds(group)
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP', 'CursorMovedI' }, {
    group = group,
    callback = function() M.on_change() end,
  })
  vim.api.nvim_create_autocmd('InsertEnter', {
    group = group,
    callback = function()
      if not enabled() then return end
      local bufnr = vim.api.nvim_get_current_buf()
      if not client.buffers[bufnr] then return end
      local row, col = cursor()
      last = { tick = vim.api.nvim_buf_get_changedtick(bufnr), row = row, col = col }
      schedule_request()
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    callback = function() M.clear(false) end,
  })
  vim.api.nvim_create_autocmd('CompleteDone', { group = group, callback = function() M.redraw() end })
end

return M
