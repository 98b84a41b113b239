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
