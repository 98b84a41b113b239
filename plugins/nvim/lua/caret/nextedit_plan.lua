-- How a next-edit suggestion is drawn and where accepting it leaves the cursor. Pure functions
-- of the suggestion and the buffer's lines, unit-tested in test/unit/.
local text = require('caret.text')

local M = {}

--- Edits grouped by document URI, and the URIs in the order they first appear.
function M.group_by_document(edits)
  local by_uri, order = {}, {}
  for _, edit in ipairs(edits) do
    local uri = edit.textDocument.uri
    if not by_uri[uri] then
      by_uri[uri] = {}
      table.insert(order, uri)
    end
    table.insert(by_uri[uri], edit)
  end
  return by_uri, order
end

local function byte_range(edit, lines, encoding)
  local s, e = edit.range.start, edit.range['end']
  local srow = math.min(s.line, math.max(#lines - 1, 0))
  local erow = math.min(e.line, math.max(#lines - 1, 0))
  local scol = text.to_byte(lines[srow + 1] or '', s.character, encoding)
  local ecol = text.to_byte(lines[erow + 1] or '', e.character, encoding)
  if e.line > #lines - 1 then ecol = #(lines[erow + 1] or '') end
  return srow, scol, erow, ecol
end
M.byte_range = byte_range

--- Row and byte column just after `edit`'s new text once it is applied to `lines` (the lines
--- after applying).
function M.end_of_edit(edit, lines, encoding)
  local srow, scol = byte_range(edit, lines, encoding)
  local pieces = text.split_lines(edit.newText)
  if #pieces == 1 then return srow, scol + #pieces[1] end
  return srow + #pieces - 1, #pieces[#pieces]
end

--- Whether `suggestion` only jumps: no edits (its file is not open, so none could be given a
--- version), only where to go.
function M.is_jump_only(suggestion)
  return type(suggestion) == 'table' and type(suggestion.edits) == 'table' and #suggestion.edits == 0
    and type(suggestion.jump) == 'table' and type(suggestion.jump.uri) == 'string' and type(suggestion.jump.position) == 'table'
end

--- Row and byte column (0-based) of a jump's LSP `position` in a buffer whose text is `lines`,
--- clamped to the text.
function M.jump_target(position, lines, encoding)
  local row = math.max(0, math.min(position.line or 0, #lines - 1))
  return row, text.to_byte(lines[row + 1] or '', position.character or 0, encoding)
end

--- The quiet hint a jump-only suggestion shows: where it goes (file and 1-based line), why, and
--- the accept key.
function M.jump_hint(suggestion, hint)
  local jump = suggestion.jump
  local name = vim.fn.fnamemodify(vim.uri_to_fname(jump.uri), ':t')
  local why = (type(suggestion.reason) == 'string' and suggestion.reason ~= '') and (' (' .. suggestion.reason .. ')') or ''
  return string.format(' caret: → %s:%d%s %s', name, (jump.position.line or 0) + 1, why, hint or '')
end

--- Extmarks { row, col, opts } that show `suggestion` in the buffer of `uri` whose text is
--- `lines`, with the cursor on `cursor_row`. Near edits are drawn in place (old text marked,
--- new text as virtual text); far ones get a sign and a marker naming the key that jumps; a
--- jump-only suggestion is a hint at the end of the cursor's line.
function M.render(suggestion, uri, lines, cursor_row, opts)
  local marks = {}
  local encoding = opts.encoding or 'utf-16'
  if M.is_jump_only(suggestion) then
    table.insert(marks, { cursor_row, 0, { virt_text = { { M.jump_hint(suggestion, opts.hint), 'CaretNextEditSign' } }, virt_text_pos = 'eol' } })
    return marks
  end
  local here = {}
  for _, edit in ipairs(suggestion.edits) do
    if edit.textDocument.uri == uri then table.insert(here, edit) end
  end
  if #here == 0 then
    -- Everything is in another file: say where, on the cursor's line.
    local other = suggestion.edits[1].textDocument.uri
    local name = vim.fn.fnamemodify(vim.uri_to_fname(other), ':t')
    table.insert(marks, { cursor_row, 0, {
      virt_text = { { string.format(' caret: next edit in %s (%s)', name, opts.hint or ''), 'CaretNextEditSign' } },
      virt_text_pos = 'eol',
    } })
    return marks
  end
  for i, edit in ipairs(here) do
    local srow, scol, erow, ecol = byte_range(edit, lines, encoding)
    local near = math.abs(srow - cursor_row) <= (opts.inline_distance or 12)
    if near then
      if erow > srow or ecol > scol then
        table.insert(marks, { srow, scol, { end_row = erow, end_col = ecol, hl_group = 'CaretNextEditDelete', priority = 150 } })
      end
      local pieces = text.split_lines(edit.newText)
      if edit.newText ~= '' then
        local first = { { pieces[1], 'CaretNextEdit' } }
        local below = {}
        for j = 2, #pieces do table.insert(below, { { pieces[j], 'CaretNextEdit' } }) end
        if opts.inline then
          local o = { virt_text = first, virt_text_pos = 'inline', priority = 150 }
          if #below > 0 then o.virt_lines = below end
          table.insert(marks, { erow, ecol, o })
        else
          -- Without inline virtual text: the new text after the line, further lines below it.
          local o = { virt_text = { { ' → ', 'CaretNextEditSign' }, first[1] }, virt_text_pos = 'eol', priority = 150 }
          if #below > 0 then o.virt_lines = below end
          table.insert(marks, { erow, 0, o })
        end
      end
    else
      table.insert(marks, { srow, 0, {
        sign_text = opts.sign_text or '»',
        sign_hl_group = 'CaretNextEditSign',
        virt_text = i == 1 and { { string.format(' caret: next edit (%s)', opts.hint or ''), 'CaretNextEditSign' } } or nil,
        virt_text_pos = i == 1 and 'eol' or nil,
      } })
    end
  end
  return marks
end

return M
