-- :CaretSearch: caret/search results in the quickfix list.
local client = require('caret.client')

local M = {}

--- Quickfix entries for caret/search results (a list, or an object holding `results` or
--- `items`). Pure, unit-tested. `read_line(path, lnum)` supplies the text when a result has
--- no snippet.
function M.to_quickfix(result, encoding, read_line)
  local list = {}
  if type(result) == 'table' then
    list = result.results or result.items or result
  end
  local entries = {}
  for _, r in ipairs(list) do
    local uri = r.uri or (r.location and r.location.uri)
    local range = r.range or (r.location and r.location.range)
    if uri and range then
      local path = vim.uri_to_fname(uri)
      local lnum = range.start.line + 1
      local line = read_line and read_line(path, lnum) or nil
      local col = range.start.character
      if line then col = require('caret.text').to_byte(line, col, encoding) end
      local snippet = r.snippet or r.text or line or ''
      if type(snippet) == 'table' then snippet = snippet.text or '' end
      snippet = (snippet:match('^%s*([^\n]*)') or '')
      local label = r.symbol and (type(r.symbol) == 'table' and r.symbol.name or r.symbol)
      table.insert(entries, {
        filename = path,
        lnum = lnum,
        col = col + 1,
        end_lnum = range['end'].line + 1,
        text = label and string.format('[%s] %s', label, snippet) or snippet,
      })
    end
  end
  return entries
end

local function read_line(path, lnum)
  local bufnr = vim.fn.bufnr(path)
  if bufnr > 0 and vim.api.nvim_buf_is_loaded(bufnr) then
    return vim.api.nvim_buf_get_lines(bufnr, lnum - 1, lnum, false)[1]
  end
  local ok, lines = pcall(vim.fn.readfile, path, '', lnum)
  if ok and lines then return lines[lnum] end
  return nil
end

--- Searches the workspace; fills the quickfix list and opens it. `opts`: limit, mode, callback.
function M.search(query, opts)
  opts = opts or {}
  if type(query) ~= 'string' or query == '' then
    client.notify('caret: :CaretSearch needs a query, e.g. :CaretSearch parseConfig', vim.log.levels.WARN)
    return
  end
  local params = { query = query, limit = opts.limit or client.opts.search.limit }
  if opts.mode then params.mode = opts.mode end
  client.request('caret/search', params, function(err, result)
    if err then
      client.notify('caret: search failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      if opts.callback then opts.callback(err, nil) end
      return
    end
    local entries = M.to_quickfix(result, client.encoding(), read_line)
    vim.fn.setqflist({}, ' ', { title = 'caret search: ' .. query, items = entries })
    if #entries == 0 then
      client.notify('caret: no results for ' .. query, vim.log.levels.INFO)
    elseif client.opts.search.open_quickfix then
      vim.cmd('copen')
    end
    if opts.callback then opts.callback(nil, entries) end
  end)
end

return M
