-- :CaretApply and :CaretEdit: send a sketch (or an instruction for a selection) to the daemon,
-- show the hunks as they stream in, in the buffers they change, and let the user accept or
-- reject each. One request feeds one review per affected buffer (a session); a file that is not
-- loaded yet is loaded (bufload, listed, no window) when its first hunk arrives. Hunks are
-- anchored with extmarks, so accepting one, or typing meanwhile, keeps the others in place; a
-- hunk whose text changed under it since the daemon saw it is refused as stale.
local client = require('caret.client')
local plan = require('caret.review_plan')

local M = {}

local ns = vim.api.nvim_create_namespace('caret.review')
local anchors_ns = vim.api.nvim_create_namespace('caret.review.anchors')
M.ns = ns

-- bufnr -> review { bufnr, session, hunks = { {hunk, key, start_mark, end_mark, state} }, seen = {}, done, mapped = {}, base }
-- session: { reviews = { bufnr -> review }, order = { bufnr }, done, cancel, stop_partial, loaded = { bufnr } }
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
  -- Decided from elsewhere (another window, a script): the first pending hunk.
  if vim.api.nvim_get_current_buf() ~= review.bufnr then return pending(review)[1] end
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
  local session = review.session
  session.reviews[review.bufnr] = nil
  session.closed[review.bufnr] = true
  if next(session.reviews) == nil and not session.done then
    -- The last review of a request still streaming: nobody wants the rest.
    if session.cancel then session.cancel() end
    if session.stop_partial then session.stop_partial() end
  end
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
    local accepted, rejected, stale = 0, 0, 0
    for _, entry in ipairs(review.hunks) do
      if entry.state == 'accepted' then accepted = accepted + 1 elseif entry.state == 'rejected' then rejected = rejected + 1 elseif entry.state == 'stale' then stale = stale + 1 end
    end
    local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(review.bufnr), ':~:.')
    close(review, #review.hunks > 0 and string.format('review of %s done: %d accepted, %d rejected%s', name, accepted, rejected, stale > 0 and string.format(', %d stale', stale) or '') or nil)
  end
end

local function add_hunks(review, hunks)
  local lines = vim.api.nvim_buf_get_lines(review.bufnr, 0, -1, false)
  local added = false
  for _, h in ipairs(hunks) do
    local key = plan.key(h)
    if plan.old_range(h) and not review.seen[key] then
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

-- Accepts or rejects one hunk; an accepted hunk whose text changed since the daemon saw it is
-- refused (state 'stale') and the buffer left alone. Returns the new state.
local function decide(review, entry, accept)
  if accept then
    local srow, scol, erow, ecol = entry_range(review, entry)
    local now = table.concat(vim.api.nvim_buf_get_text(review.bufnr, srow, scol, erow, ecol, {}), '\n')
    if plan.still_matches(now, plan.old_text(entry.hunk)) then
      local pieces = require('caret.text').split_lines(plan.new_text(entry.hunk))
      vim.api.nvim_buf_set_text(review.bufnr, srow, scol, erow, ecol, pieces)
    else
      accept = nil
      review.stale = (review.stale or 0) + 1
      client.notify(string.format('caret: hunk at %s:%d not applied: the text there changed since it was proposed (apply the sketch again)', vim.fn.fnamemodify(vim.api.nvim_buf_get_name(review.bufnr), ':~:.'), srow + 1), vim.log.levels.WARN)
    end
  end
  entry.state = accept and 'accepted' or (accept == nil and 'stale' or 'rejected')
  pcall(vim.api.nvim_buf_del_extmark, review.bufnr, anchors_ns, entry.start_mark)
  pcall(vim.api.nvim_buf_del_extmark, review.bufnr, anchors_ns, entry.end_mark)
end

--- Review actions: 'accept', 'reject' (the hunk under or after the cursor), 'accept_all',
--- 'reject_all', 'next', 'prev', 'files' (every pending hunk of the request, in all its
--- buffers, into the quickfix list), 'close'.
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
  if action == 'files' then
    vim.fn.setqflist({}, ' ', { title = 'caret review', items = M.session_items(review.bufnr) })
    vim.cmd('copen')
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
    if following and vim.api.nvim_get_current_buf() == review.bufnr then
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
    if target and vim.api.nvim_get_current_buf() == review.bufnr then
      pcall(vim.api.nvim_win_set_cursor, 0, { entry_range(review, target) + 1, 0 })
      draw(review)
    end
    return true
  end
  client.notify('caret: unknown review action ' .. tostring(action) .. ' (accept, reject, next, prev, accept_all, reject_all, files, close)', vim.log.levels.WARN)
  return false
end

local function map_review_keys(review)
  local keys = client.opts.review_keymaps
  if type(keys) ~= 'table' then return end
  for action, lhs in pairs(keys) do
    -- Asked in the review's buffer: another buffer's review keys must not hide this one's.
    local usable = type(lhs) == 'string' and lhs ~= ''
    if usable and not vim.api.nvim_buf_call(review.bufnr, function() return vim.fn.maparg(lhs, 'n') ~= '' end) then
      vim.keymap.set('n', lhs, function() M.act(action, review.bufnr) end, { buffer = review.bufnr, desc = 'caret review: ' .. action, silent = true })
      table.insert(review.mapped, lhs)
    end
  end
end

local function version_of(bufnr)
  local versions = vim.lsp.util.buf_versions
  return versions and versions[bufnr] or vim.NIL
end

local function new_review(session, bufnr)
  if reviews[bufnr] then close(reviews[bufnr], nil) end
  local review = { bufnr = bufnr, session = session, hunks = {}, seen = {}, done = false, mapped = {}, base = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false) }
  reviews[bufnr] = review
  session.reviews[bufnr] = review
  table.insert(session.order, bufnr)
  map_review_keys(review)
  return review
end

-- The buffer for a document the daemon proposes changes to: an existing one, or the file loaded
-- now (listed, in no window) so its hunks can be drawn and decided.
local function buffer_for(session, uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    vim.fn.bufload(bufnr)
    vim.bo[bufnr].buflisted = true
    table.insert(session.loaded, bufnr)
  end
  if not client.buffers[bufnr] then pcall(require('caret').attach, bufnr) end
  return bufnr
end

-- Routes hunks to the review of their buffer, opening reviews for buffers not seen yet.
local function route(session, hunks)
  local by, order = plan.group_by_uri(hunks, session.uri)
  for _, uri in ipairs(order) do
    local bufnr = session.by_uri[uri]
    if not bufnr then
      bufnr = buffer_for(session, uri)
      session.by_uri[uri] = bufnr
      if not session.reviews[bufnr] and not session.closed[bufnr] then new_review(session, bufnr) end
    end
    local review = session.reviews[bufnr]
    if review and reviews[bufnr] == review then add_hunks(review, by[uri]) end
  end
end

local function others_note(session)
  local names = {}
  for _, bufnr in ipairs(session.order) do
    if bufnr ~= session.bufnr and session.reviews[bufnr] then
      table.insert(names, vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':~:.'))
    end
  end
  if #names == 0 then return nil end
  return string.format('caret: hunks also in %s (:CaretReview files lists them)', table.concat(names, ', '))
end

-- Sends one request and reviews its hunks. `bufnr` is the buffer the request is about (its
-- review opens at once); `uris` maps the other documents already named in the request.
local function start(bufnr, method, params, uris)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not client.buffers[bufnr] then require('caret').attach(bufnr) end
  local uri = vim.uri_from_bufnr(bufnr)
  local session = { bufnr = bufnr, uri = uri, reviews = {}, order = {}, loaded = {}, closed = {}, by_uri = { [uri] = bufnr }, done = false }
  for other_uri, other in pairs(uris or {}) do session.by_uri[other_uri] = other end
  for _, b in pairs(session.by_uri) do
    if vim.api.nvim_buf_is_loaded(b) then new_review(session, b) end
  end
  local token, stop = client.partial_token(function(value)
    vim.schedule(function()
      if not session.done and next(session.reviews) ~= nil then route(session, plan.hunks_of(value)) end
    end)
  end)
  session.stop_partial = stop
  params.partialResultToken = token
  session.cancel = client.request(method, params, function(err, result)
    session.cancel = nil
    stop()
    if next(session.reviews) == nil then return end
    if err then
      for _, review in pairs(session.reviews) do close(review, nil) end
      client.notify(string.format('caret: %s failed: %s', method, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    route(session, plan.hunks_of(result))
    session.done = true
    local unresolved = type(result) == 'table' and result.unresolved or nil
    if type(unresolved) == 'table' and #unresolved > 0 then
      local first = unresolved[1]
      local detail = type(first) == 'table' and (first.reason or first.message or '') or tostring(first)
      client.notify(string.format('caret: %d part(s) of the sketch could not be placed and were left out: %s', #unresolved, detail), vim.log.levels.WARN)
    end
    local any = false
    for _, review in pairs(session.reviews) do
      review.base = nil
      review.done = true
      if #review.hunks > 0 then any = true end
    end
    for _, review in pairs(session.reviews) do
      if #review.hunks == 0 then close(review, any and nil or 'nothing to change') end
    end
    if not any then return end
    local note = others_note(session)
    if note then client.notify(note) end
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretReviewDone', modeline = false })
    for _, review in pairs(session.reviews) do maybe_finish(review) end
  end, bufnr)
  if not session.cancel then
    for _, review in pairs(session.reviews) do close(review, nil) end
    return nil
  end
  return session.reviews[bufnr]
end

--- The pending hunks of the current buffer's review session, across all its buffers, as
--- quickfix items (the review keys and :CaretReview work in each buffer).
function M.session_items(bufnr)
  local review = M.review(bufnr)
  if not review then return {} end
  local items = {}
  for _, b in ipairs(review.session.order) do
    local r = review.session.reviews[b]
    if r and reviews[b] == r then
      for _, entry in ipairs(pending(r)) do
        local srow = entry_range(r, entry)
        local first = vim.split(plan.new_text(entry.hunk), '\n')[1] or ''
        table.insert(items, { bufnr = b, lnum = srow + 1, col = 1, text = 'caret hunk: ' .. first })
      end
    end
  end
  return items
end

-- One `files` entry of caret/apply: a loaded buffer sends its LSP version (the daemon refuses a
-- sketch written against another one); a file not loaded is read from disk by the daemon.
local function file_entry(target, sketch)
  if target.bufnr and vim.api.nvim_buf_is_loaded(target.bufnr) then
    if not client.buffers[target.bufnr] then require('caret').attach(target.bufnr) end
    return { textDocument = { uri = vim.uri_from_bufnr(target.bufnr), version = version_of(target.bufnr) }, sketch = sketch }, target.bufnr
  end
  local path = vim.fn.fnamemodify(target.path or vim.api.nvim_buf_get_name(target.bufnr), ':p')
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.api.nvim_buf_get_name(b) == path then return file_entry({ bufnr = b }, sketch) end
  end
  return { textDocument = { uri = vim.uri_from_fname(path) }, sketch = sketch }, nil
end

local function empty(sketch) return type(sketch) ~= 'string' or sketch:match('^%s*$') end

--- Applies sketches in one request. opts: bufnr (default current) or file (a path, loaded or
--- not), sketch (string); or files = { { bufnr = n | file = path, sketch = s }, ... } for several
--- files at once; instruction, strategy ('auto', 'merge' or 'model'). Every file changed gets a
--- review in its own buffer.
function M.apply(opts)
  opts = opts or {}
  local targets = opts.files
  if targets == nil then
    local bufnr = opts.file == nil and ((opts.bufnr == nil or opts.bufnr == 0) and vim.api.nvim_get_current_buf() or opts.bufnr) or nil
    targets = { { bufnr = bufnr, file = opts.file, sketch = opts.sketch } }
  end
  if type(targets) ~= 'table' or #targets == 0 then
    client.notify('caret: apply needs files = { { file = path, sketch = text }, ... }', vim.log.levels.WARN)
    return nil
  end
  local files, uris, primary = {}, {}, nil
  for _, t in ipairs(targets) do
    if empty(t.sketch) then
      client.notify('caret: the sketch is empty: yank the code block to apply, or select it, then :CaretApply', vim.log.levels.WARN)
      return nil
    end
    if t.file and vim.fn.filereadable(vim.fn.fnamemodify(t.file, ':p')) == 0 then
      client.notify('caret: no such file: ' .. t.file .. ' (apply edits existing files; create it first)', vim.log.levels.WARN)
      return nil
    end
    local default = (t.file == nil and (t.bufnr == nil or t.bufnr == 0)) and vim.api.nvim_get_current_buf() or t.bufnr
    local entry, bufnr = file_entry({ bufnr = default, path = t.file }, t.sketch)
    table.insert(files, entry)
    if bufnr then uris[entry.textDocument.uri] = bufnr end
    primary = primary or bufnr
  end
  local params = { files = files, strategy = opts.strategy or 'auto' }
  if opts.instruction then params.instruction = opts.instruction end
  -- The request goes through the first loaded target (or the current buffer when none is).
  return start(primary or vim.api.nvim_get_current_buf(), 'caret/apply', params, uris)
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
