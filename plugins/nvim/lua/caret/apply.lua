-- :CaretApply and :CaretEdit: send a sketch (or an instruction for a selection) to the daemon,
-- show the hunks as they stream in, in the target buffer itself, and let the user accept or
-- reject each. Hunks are anchored with extmarks, so accepting one, or typing meanwhile, keeps
-- the others in place.
local client = require('caret.client')
local plan = require('caret.review_plan')

local M = {}

local ns = vim.api.nvim_create_namespace('caret.review')
local anchors_ns = vim.api.nvim_create_namespace('caret.review.anchors')
M.ns = ns

-- bufnr -> review { bufnr, hunks = { {hunk, key, start_mark, end_mark, state} }, seen = {}, done, cancel, stop_partial, mapped = {} }
local reviews = {}

function M.review(bufnr)
  return reviews[(bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr]
end

local function pending(review)
  local out = {}
  for _, entry in ipairs(review.hunks) do
    if entry.state == 'pending' then table.insert(out, entry) end
  end
  return out
end

local function entry_range(review, entry)
  local s = vim.api.nvim_buf_get_extmark_by_id(review.bufnr, anchors_ns, entry.start_mark, {})
  local e = vim.api.nvim_buf_get_extmark_by_id(review.bufnr, anchors_ns, entry.end_mark, {})
  return s[1], s[2], e[1], e[2]
end

local function current_entry(review)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local best, before = nil, nil
  for _, entry in ipairs(pending(review)) do
    local srow, _, erow = entry_range(review, entry)
    if row >= srow and row <= math.max(erow, srow) then return entry end
    if srow > row and (not best or srow < best.srow) then best = { entry = entry, srow = srow } end
    if srow < row then before = entry end
  end
  return best and best.entry or before
end

local function draw(review)
  vim.api.nvim_buf_clear_namespace(review.bufnr, ns, 0, -1)
  if not vim.api.nvim_buf_is_valid(review.bufnr) then return end
  local cur = vim.api.nvim_get_current_buf() == review.bufnr and current_entry(review) or nil
  for _, entry in ipairs(pending(review)) do
    local srow, scol, erow, ecol = entry_range(review, entry)
    local marks = plan.render(entry.hunk, srow, scol, erow, ecol, plan.is_dim(entry.hunk, client.opts.apply.dim_low_importance), entry == cur)
    for _, mark in ipairs(marks) do
      pcall(vim.api.nvim_buf_set_extmark, review.bufnr, ns, mark[1], mark[2], mark[3])
    end
  end
end

local function unmap(review)
  for _, lhs in ipairs(review.mapped) do pcall(vim.keymap.del, 'n', lhs, { buffer = review.bufnr }) end
  review.mapped = {}
end

local function close(review, reason)
  if reviews[review.bufnr] ~= review then return end
  reviews[review.bufnr] = nil
  if review.cancel then review.cancel() end
  if review.stop_partial then review.stop_partial() end
  unmap(review)
  if vim.api.nvim_buf_is_valid(review.bufnr) then
    vim.api.nvim_buf_clear_namespace(review.bufnr, ns, 0, -1)
    vim.api.nvim_buf_clear_namespace(review.bufnr, anchors_ns, 0, -1)
  end
  if reason then client.notify('caret: ' .. reason) end
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretReviewClosed', modeline = false })
end

local function maybe_finish(review)
  if review.done and #pending(review) == 0 then
    local accepted, rejected = 0, 0
    for _, entry in ipairs(review.hunks) do
      if entry.state == 'accepted' then accepted = accepted + 1 elseif entry.state == 'rejected' then rejected = rejected + 1 end
    end
    close(review, #review.hunks > 0 and string.format('review done: %d accepted, %d rejected', accepted, rejected) or nil)
  end
end

local function add_hunks(review, hunks, uri)
  local lines = vim.api.nvim_buf_get_lines(review.bufnr, 0, -1, false)
  local added = false
  for _, h in ipairs(hunks) do
    local key = plan.key(h)
    if (h.uri == nil or h.uri == uri) and plan.old_range(h) and not review.seen[key] then
      review.seen[key] = true
      local srow, scol, erow, ecol = plan.byte_range(h, review.base or lines, client.encoding())
      local start_mark = vim.api.nvim_buf_set_extmark(review.bufnr, anchors_ns, srow, scol, { right_gravity = false })
      local end_mark = vim.api.nvim_buf_set_extmark(review.bufnr, anchors_ns, erow, ecol, { right_gravity = true })
      table.insert(review.hunks, { hunk = h, key = key, start_mark = start_mark, end_mark = end_mark, state = 'pending' })
      added = true
    end
  end
  if added then
    table.sort(review.hunks, function(a, b)
      local ar, ac = entry_range(review, a)
      local br, bc = entry_range(review, b)
      return ar < br or (ar == br and ac < bc)
    end)
    draw(review)
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretReviewHunks', modeline = false })
  end
end

local function decide(review, entry, accept)
  if accept then
    local srow, scol, erow, ecol = entry_range(review, entry)
    local pieces = require('caret.text').split_lines(plan.new_text(entry.hunk))
    vim.api.nvim_buf_set_text(review.bufnr, srow, scol, erow, ecol, pieces)
  end
  entry.state = accept and 'accepted' or 'rejected'
  pcall(vim.api.nvim_buf_del_extmark, review.bufnr, anchors_ns, entry.start_mark)
  pcall(vim.api.nvim_buf_del_extmark, review.bufnr, anchors_ns, entry.end_mark)
end

--- Review actions: 'accept', 'reject' (the hunk under or after the cursor), 'accept_all',
--- 'reject_all', 'next', 'prev', 'close'.
function M.act(action, bufnr)
  local review = M.review(bufnr)
  if not review then
    client.notify('caret: no apply review in this buffer', vim.log.levels.WARN)
    return false
  end
  if action == 'close' then
    close(review, 'review closed; hunks left undecided were not applied')
    return true
  end
  if action == 'accept_all' or action == 'reject_all' then
    for _, entry in ipairs(pending(review)) do decide(review, entry, action == 'accept_all') end
    review.done = review.done or action == 'reject_all'
    draw(review)
    maybe_finish(review)
    return true
  end
  local entry = current_entry(review)
  if not entry then return false end
  if action == 'accept' or action == 'reject' then
    decide(review, entry, action == 'accept')
    draw(review)
    local following = current_entry(review)
    if following then
      local row = entry_range(review, following)
      pcall(vim.api.nvim_win_set_cursor, 0, { row + 1, 0 })
      draw(review)
    end
    maybe_finish(review)
    return true
  end
  if action == 'next' or action == 'prev' then
    local row = vim.api.nvim_win_get_cursor(0)[1] - 1
    local list = pending(review)
    local target
    if action == 'next' then
      for _, e in ipairs(list) do
        if entry_range(review, e) > row then target = e break end
      end
      target = target or list[1]
    else
      for i = #list, 1, -1 do
        if entry_range(review, list[i]) < row then target = list[i] break end
      end
      target = target or list[#list]
    end
    if target then
      pcall(vim.api.nvim_win_set_cursor, 0, { entry_range(review, target) + 1, 0 })
      draw(review)
    end
    return true
  end
  client.notify('caret: unknown review action ' .. tostring(action) .. ' (accept, reject, next, prev, accept_all, reject_all, close)', vim.log.levels.WARN)
  return false
end

local function map_review_keys(review)
  local keys = client.opts.review_keymaps
  if type(keys) ~= 'table' then return end
  for action, lhs in pairs(keys) do
    if type(lhs) == 'string' and lhs ~= '' and vim.fn.maparg(lhs, 'n') == '' then
      vim.keymap.set('n', lhs, function() M.act(action, review.bufnr) end, { buffer = review.bufnr, desc = 'caret review: ' .. action, silent = true })
      table.insert(review.mapped, lhs)
    end
  end
end

local function start(bufnr, method, params)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if reviews[bufnr] then close(reviews[bufnr], nil) end
  if not client.buffers[bufnr] then require('caret').attach(bufnr) end
  local uri = vim.uri_from_bufnr(bufnr)
  local review = { bufnr = bufnr, hunks = {}, seen = {}, done = false, mapped = {}, base = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false) }
  reviews[bufnr] = review
  local token, stop = client.partial_token(function(value)
    vim.schedule(function()
      if reviews[bufnr] == review then add_hunks(review, plan.hunks_of(value), uri) end
    end)
  end)
  review.stop_partial = stop
  params.partialResultToken = token
  map_review_keys(review)
  review.cancel = client.request(method, params, function(err, result)
    review.cancel = nil
    stop()
    if reviews[bufnr] ~= review then return end
    if err then
      close(review, nil)
      client.notify(string.format('caret: %s failed: %s', method, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    add_hunks(review, plan.hunks_of(result), uri)
    review.base = nil
    review.done = true
    local unresolved = type(result) == 'table' and result.unresolved or nil
    if type(unresolved) == 'table' and #unresolved > 0 then
      local first = unresolved[1]
      local detail = type(first) == 'table' and (first.reason or first.message or '') or tostring(first)
      client.notify(string.format('caret: %d part(s) of the sketch could not be placed and were left out: %s', #unresolved, detail), vim.log.levels.WARN)
    end
    if #review.hunks == 0 then
      close(review, 'nothing to change')
      return
    end
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretReviewDone', modeline = false })
    maybe_finish(review)
  end, bufnr)
  if not review.cancel then close(review, nil) end
  return review
end

local function version_of(bufnr)
  local versions = vim.lsp.util.buf_versions
  return versions and versions[bufnr] or vim.NIL
end

--- Applies a sketch to a buffer. opts: bufnr (default current), sketch (string), instruction,
--- strategy ('auto', 'merge' or 'model').
function M.apply(opts)
  opts = opts or {}
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and vim.api.nvim_get_current_buf() or opts.bufnr
  if type(opts.sketch) ~= 'string' or opts.sketch:match('^%s*$') then
    client.notify('caret: the sketch is empty: yank the code block to apply, or select it, then :CaretApply', vim.log.levels.WARN)
    return nil
  end
  local file = { textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version_of(bufnr) }, sketch = opts.sketch }
  local params = { files = { file }, strategy = opts.strategy or 'auto' }
  if opts.instruction then params.instruction = opts.instruction end
  return start(bufnr, 'caret/apply', params)
end

--- Asks the daemon to edit lines `first`..`last` (1-based) of a buffer as `instruction` says.
function M.edit(opts)
  opts = opts or {}
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and vim.api.nvim_get_current_buf() or opts.bufnr
  if type(opts.instruction) ~= 'string' or opts.instruction:match('^%s*$') then
    client.notify('caret: :CaretEdit needs an instruction, e.g. :\'<,\'>CaretEdit handle the empty list', vim.log.levels.WARN)
    return nil
  end
  local last_line = vim.api.nvim_buf_get_lines(bufnr, opts.last - 1, opts.last, false)[1] or ''
  local range = {
    start = { line = opts.first - 1, character = 0 },
    ['end'] = { line = opts.last - 1, character = require('caret.text').length(last_line, client.encoding()) },
  }
  return start(bufnr, 'caret/edit', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version_of(bufnr) },
    range = range,
    instruction = opts.instruction,
  })
end

--- The buffer a sketch selected in `bufnr` applies to: the previous window's buffer when it
--- holds a file, else the alternate file.
function M.target_for_selection(bufnr)
  local prev = vim.fn.win_getid(vim.fn.winnr('#'))
  if prev ~= 0 then
    local b = vim.api.nvim_win_get_buf(prev)
    if b ~= bufnr and vim.bo[b].buftype == '' and vim.api.nvim_buf_get_name(b) ~= '' then return b end
  end
  local alt = vim.fn.bufnr('#')
  if alt > 0 and alt ~= bufnr and vim.api.nvim_buf_is_loaded(alt) then return alt end
  return nil
end

return M
