-- Apply/edit review: reading the daemon's hunks and deciding how each is drawn. Pure functions,
-- unit-tested in test/unit/; review.lua does the drawing and editing.
local text = require('caret.text')

local M = {}

function M.old_range(h)
  return h.oldRange or (type(h.old) == 'table' and h.old.range) or h.range
end

function M.new_text(h)
  if type(h.newText) == 'string' then return h.newText end
  if type(h.new) == 'table' and type(h.new.text) == 'string' then return h.new.text end
  return ''
end

function M.old_text(h)
  if type(h.oldText) == 'string' then return h.oldText end
  if type(h.old) == 'table' and type(h.old.text) == 'string' then return h.old.text end
  return nil
end

--- A key that identifies a hunk across the streamed partial results and the final result.
function M.key(h)
  local r = M.old_range(h) or { start = { line = -1, character = -1 }, ['end'] = { line = -1, character = -1 } }
  return string.format('%s:%d:%d:%d:%d', h.uri or '', r.start.line, r.start.character, r['end'].line, r['end'].character)
end

--- The hunks in a `$/progress` value or a final result (a list, or an object with `hunks`).
function M.hunks_of(value)
  if type(value) ~= 'table' then return {} end
  if type(value.hunks) == 'table' then return value.hunks end
  if value[1] ~= nil then return value end
  return {}
end

--- Whether the text now under a hunk's anchors is still the text the daemon saw. A hunk whose
--- range was clamped at the end of the buffer may lack the final newline of its old text.
function M.still_matches(current, old)
  if old == nil or current == old then return true end
  return current .. '\n' == old
end

--- The hunks of `hunks` grouped by document, in order of first appearance; hunks without a uri
--- belong to `default_uri`.
function M.group_by_uri(hunks, default_uri)
  local by, order = {}, {}
  for _, h in ipairs(hunks) do
    local uri = h.uri or default_uri
    if not by[uri] then by[uri] = {} table.insert(order, uri) end
    table.insert(by[uri], h)
  end
  return by, order
end

--- Splits `:CaretApply` arguments into a register and a target file: a lone first word of one
--- character is a register name; what follows (or a longer first word) names the file.
function M.parse_apply_args(args)
  local words = vim.split(vim.trim(args or ''), '%s+', { trimempty = true })
  local register, file = nil, nil
  if words[1] and #words[1] == 1 then
    register = table.remove(words, 1)
  end
  if #words > 0 then file = table.concat(words, ' ') end
  return register, file
end

--- Whether a hunk is drawn dimmed.
function M.is_dim(h, dim_low)
  return dim_low and h.importance == 'low'
end

--- Byte positions { srow, scol, erow, ecol } of a hunk's old range in `lines`.
function M.byte_range(h, lines, encoding)
  local r = M.old_range(h)
  local last = math.max(#lines - 1, 0)
  local srow = math.min(r.start.line, last)
  local scol = text.to_byte(lines[srow + 1] or '', r.start.character, encoding)
  local erow, ecol
  if r['end'].line > last then
    -- A range that ends past the last line (a deletion at end of file) ends at its end.
    erow, ecol = last, #(lines[last + 1] or '')
  else
    erow = r['end'].line
    ecol = text.to_byte(lines[erow + 1] or '', r['end'].character, encoding)
  end
  return srow, scol, erow, ecol
end

--- How to draw a hunk whose old text spans (srow, scol)-(erow, ecol): a list of { row, col,
--- opts } extmarks: the old text highlighted, the new text as virtual lines where it goes.
function M.render(h, srow, scol, erow, ecol, dim, current)
  local del = dim and 'CaretHunkDim' or 'CaretHunkDelete'
  local add = dim and 'CaretHunkDim' or 'CaretHunkAdd'
  local marks = {}
  if erow > srow or ecol > scol then
    table.insert(marks, { srow, scol, { end_row = erow, end_col = ecol, hl_group = del, hl_eol = true, priority = 120 } })
  end
  local new = M.new_text(h)
  local whole_lines = scol == 0 and ecol == 0
  local pieces = text.split_lines(new)
  if whole_lines and pieces[#pieces] == '' then table.remove(pieces) end
  local virt = {}
  for _, p in ipairs(pieces) do table.insert(virt, { { p == '' and ' ' or p, add } }) end
  local label = string.format(' caret hunk%s%s ', dim and ' (minor)' or '', current and ' ◂' or '')
  if whole_lines then
    -- Line-wise hunk: new lines go above the first line after the old ones.
    local o = { virt_lines = #virt > 0 and virt or nil, virt_lines_above = true, priority = 120 }
    if #virt == 0 then o = nil end
    if o then table.insert(marks, { erow, 0, o }) end
  elseif #virt > 0 then
    table.insert(marks, { erow, 0, { virt_lines = virt, priority = 120 } })
  end
  table.insert(marks, { srow, 0, { virt_text = { { label, dim and 'CaretHunkDim' or 'CaretNextEditSign' } }, virt_text_pos = 'eol', priority = 120 } })
  return marks
end

return M
