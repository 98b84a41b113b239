-- Text helpers: position encodings, splitting a suggestion into words and lines, snippets.
-- Pure functions (they use only vim.str_* string primitives), unit-tested in test/unit/.
local M = {}

--- Splits on "\n", keeping empty pieces: "a\n" -> { "a", "" }.
function M.split_lines(s)
  local out, start = {}, 1
  while true do
    local nl = s:find('\n', start, true)
    if not nl then
      table.insert(out, s:sub(start))
      return out
    end
    table.insert(out, s:sub(start, nl - 1))
    start = nl + 1
  end
end

--- Byte offset (0-based) in `line` of an LSP `character` in `encoding`; clamped to the line, as
--- LSP asks of positions past its end.
function M.to_byte(line, character, encoding)
  if character <= 0 then return 0 end
  if encoding == 'utf-8' then return math.min(character, #line) end
  local ok, byte = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  if not ok or byte == nil then return #line end
  return math.min(byte, #line)
end

--- LSP `character` in `encoding` of a 0-based byte offset in `line`.
function M.from_byte(line, byte, encoding)
  byte = math.max(0, math.min(byte, #line))
  if encoding == 'utf-8' then return byte end
  -- Back off to the start of a UTF-8 sequence, so a byte inside a character counts as that character.
  while byte > 0 and byte < #line and bit.band(line:byte(byte + 1), 0xC0) == 0x80 do byte = byte - 1 end
  local ok, utf32, utf16 = pcall(vim.str_utfindex, line, byte)
  if not ok then return byte end
  return encoding == 'utf-16' and utf16 or utf32
end

--- Length of `s` (which may span lines) in `encoding` units.
function M.length(s, encoding)
  if encoding == 'utf-8' then return #s end
  local ok, utf32, utf16 = pcall(vim.str_utfindex, s)
  if not ok then return #s end
  return encoding == 'utf-16' and utf16 or utf32
end

--- The next word of a suggestion, for accept-word: a line break with the next line's
--- indentation, or leading blanks followed by a run of word characters or by one other character.
function M.next_word(s)
  if s == '' then return '' end
  if s:sub(1, 1) == '\n' then
    local indent = s:match('^\n([ \t]*)')
    return '\n' .. indent
  end
  local blanks = s:match('^[ \t]*')
  local rest = s:sub(#blanks + 1)
  if rest == '' or rest:sub(1, 1) == '\n' then return blanks ~= '' and blanks or rest:sub(1, 1) end
  local word = rest:match('^[%w_\128-\255]+')
  if word then return blanks .. word end
  -- One punctuation character; a run of the same one (`==`, `::`, `->` pieces) counts as one word.
  local char = rest:sub(1, 1)
  local run = rest:match('^' .. vim.pesc(char) .. '+')
  return blanks .. run
end

--- The next line of a suggestion, for accept-line: the rest of the current line; at a line
--- break, the break and the whole next line.
function M.next_line(s)
  if s == '' then return '' end
  if s:sub(1, 1) == '\n' then
    local line = s:match('^\n[^\n]*')
    return line
  end
  return s:match('^[^\n]*')
end

--- A TextMate snippet as the plain text it inserts: placeholders become their default text,
--- tabstops and variables disappear, escapes are undone.
function M.snippet_to_text(snippet)
  local out, i, n = {}, 1, #snippet
  local function parse(stop)
    while i <= n do
      local c = snippet:sub(i, i)
      if c == '\\' and i < n then
        table.insert(out, snippet:sub(i + 1, i + 1))
        i = i + 2
      elseif stop and c == '}' then
        i = i + 1
        return
      elseif c == '$' then
        local digits = snippet:match('^%d+', i + 1)
        local name = snippet:match('^[%a_][%w_]*', i + 1)
        if digits then
          i = i + 1 + #digits
        elseif name then
          i = i + 1 + #name
        elseif snippet:sub(i + 1, i + 1) == '{' then
          i = i + 2
          local head = snippet:match('^[%w_]+', i) or ''
          i = i + #head
          local sep = snippet:sub(i, i)
          if sep == ':' then
            i = i + 1
            parse(true)
          elseif sep == '|' then
            -- Choice: the first option is the default.
            local choices = snippet:match('^|([^|]*)|}', i) or ''
            table.insert(out, (choices:match('^[^,]*')))
            i = i + #choices + 3
          else
            i = i + 1 -- the closing brace of ${1}
          end
        else
          table.insert(out, c)
          i = i + 1
        end
      else
        table.insert(out, c)
        i = i + 1
      end
    end
  end
  parse(false)
  return table.concat(out)
end

--- Display width of `s`, with tabs at `tabstop` (ghost text is drawn with tabs expanded).
function M.expand_tabs(s, tabstop)
  return (s:gsub('\t', string.rep(' ', tabstop)))
end

return M
