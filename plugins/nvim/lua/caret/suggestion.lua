-- An inline suggestion as the plugin holds it: what remains to insert at the cursor, and how
-- many bytes after the cursor it replaces. Typing through it, accepting part of it and drawing
-- it are pure functions of this state, unit-tested in test/unit/.
local text = require('caret.text')

local M = {}

--- The id the daemon gave an item: the argument of its accept command.
function M.item_id(item)
  local command = item.command
  if type(command) == 'table' and type(command.arguments) == 'table' then
    local id = command.arguments[1]
    if type(id) == 'string' or type(id) == 'number' then return tostring(id) end
  end
  return nil
end

--- The items of an inlineCompletion result (a list, an InlineCompletionList or null).
function M.items_of(result)
  if type(result) ~= 'table' then return {} end
  if type(result.items) == 'table' then return result.items end
  if result[1] ~= nil then return result end
  return {}
end

--- Builds the state for `item` at the cursor (0-based `row`, byte `col`) of buffer `lines`
--- (`lines[row + 1]` is the cursor's line). Returns nil when the item does not fit the text
--- (its range is on another line, or it does not extend what was typed), or adds nothing.
function M.from_item(item, lines, row, col, encoding)
  local insert = item.insertText
  if type(insert) == 'table' then insert = text.snippet_to_text(insert.value or '') end
  if type(insert) ~= 'string' then return nil end
  local line = lines[row + 1] or ''
  local start_col, end_col = col, col
  if type(item.range) == 'table' then
    local s, e = item.range.start, item.range['end']
    if s.line ~= row or e.line ~= row then return nil end
    start_col = text.to_byte(line, s.character, encoding)
    end_col = text.to_byte(line, e.character, encoding)
  end
  if start_col > col or end_col < start_col then return nil end
  local typed = line:sub(start_col + 1, col)
  if insert:sub(1, #typed) ~= typed then return nil end
  local remainder = insert:sub(#typed + 1)
  local replace_after = math.max(end_col - col, 0)
  -- Text it replaces that it also ends with stays as it is: show and insert only what is new.
  if replace_after > 0 and not remainder:find('\n', 1, true) then
    local replaced = line:sub(col + 1, col + replace_after)
    if remainder:sub(-#replaced) == replaced then
      remainder = remainder:sub(1, #remainder - #replaced)
      replace_after = 0
    end
  end
  if remainder == '' and replace_after == 0 then return nil end
  return {
    row = row,
    col = col,
    text = remainder,
    replace_after = replace_after,
    id = M.item_id(item),
    item = item,
    lead = typed, -- the part of insertText that was already typed
    accepted = 0, -- bytes of the original remainder accepted so far
    accepted_text = '',
  }
end

local function moved(state, accepted)
  local pieces = text.split_lines(accepted)
  local row, col = state.row, state.col
  if #pieces > 1 then
    row = row + #pieces - 1
    col = #pieces[#pieces]
  else
    col = col + #accepted
  end
  return row, col
end

--- The state after the user typed `typed` at the cursor: the rest of the suggestion, or nil
--- when the typing departs from it (the suggestion is then rejected).
function M.advance(state, typed)
  if typed == '' then return state end
  if state.text:sub(1, #typed) ~= typed then return nil end
  local rest = state.text:sub(#typed + 1)
  if rest == '' and state.replace_after == 0 then return nil end
  local row, col = moved(state, typed)
  return vim.tbl_extend('force', state, {
    row = row,
    col = col,
    text = rest,
    accepted = state.accepted + #typed,
    accepted_text = state.accepted_text .. typed,
  })
end

--- Splits off the part to insert for an accept of `kind` ('all', 'word' or 'line'). Returns
--- the text to insert, the bytes after the cursor it replaces, and the state that remains (nil
--- when nothing does).
function M.take(state, kind)
  local piece
  if kind == 'word' then
    piece = text.next_word(state.text)
  elseif kind == 'line' then
    piece = text.next_line(state.text)
  else
    piece = state.text
  end
  if piece == state.text then return piece, state.replace_after, nil end
  local rest = M.advance(state, piece)
  return piece, 0, rest
end

--- What to draw for `state` on the cursor's `line`: a list of { col, opts } extmarks, where opts
--- use only nvim_buf_set_extmark keys. `inline` says whether the editor has inline virtual
--- text (0.10+); without it, the rest of the line is drawn over and further lines go below.
function M.render(state, line, inline, tabstop, hl)
  hl = hl or 'CaretGhostText'
  local lines = text.split_lines(state.text)
  for i, l in ipairs(lines) do lines[i] = text.expand_tabs(l, tabstop or 8) end
  local col = math.min(state.col, #line)
  local after = line:sub(col + 1)
  local tail = after:sub(state.replace_after + 1)
  local first = lines[1]
  local below = {}
  for i = 2, #lines do table.insert(below, { { lines[i], hl } }) end
  if #lines > 1 then
    -- What stays after the replaced text ends up after the last line.
    local last = below[#below]
    if tail ~= '' then table.insert(last, { text.expand_tabs(tail, tabstop or 8), hl }) end
  end
  local opts = { hl_mode = 'combine', priority = 200 }
  if #below > 0 then opts.virt_lines = below end
  local marks = {}
  if inline then
    opts.virt_text = { { first, hl } }
    opts.virt_text_pos = 'inline'
    table.insert(marks, { col, opts })
    if state.replace_after > 0 then
      table.insert(marks, { col, { end_col = math.min(col + state.replace_after, #line), hl_group = 'CaretGhostReplaced', priority = 200 } })
    end
    return marks
  end
  -- Overlay: draw the new text and what follows it over the rest of the line, padded so no old
  -- character shows through.
  local shown = first
  if #lines == 1 then shown = first .. text.expand_tabs(tail, tabstop or 8) end
  local old_width = vim.fn.strdisplaywidth(text.expand_tabs(after, tabstop or 8))
  local width = vim.fn.strdisplaywidth(shown)
  if width < old_width then shown = shown .. string.rep(' ', old_width - width) end
  opts.virt_text = { { shown, hl } }
  opts.virt_text_pos = 'overlay'
  table.insert(marks, { col, opts })
  return marks
end

return M
