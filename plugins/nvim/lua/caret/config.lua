-- Options: the defaults, merging a user's table over them, and checking it. Pure: no editor state.
local M = {}

M.defaults = {
  -- The command that serves the editor over stdio. `caret lsp` relays to the user's daemon and
  -- starts one when none runs, so one daemon serves every editor.
  cmd = { 'caret', 'lsp' },
  -- Extra environment for that command (it also receives the editor's own environment).
  cmd_env = nil,
  -- Files whose upward search finds one of these names root a workspace.
  root_markers = { '.caret', '.git', 'package.json', 'Cargo.toml', 'go.mod', 'pyproject.toml' },
  -- Filetypes caret never attaches to; an empty `filetypes` list means every other filetype.
  filetypes = {},
  exclude_filetypes = { 'help', 'gitcommit', 'gitrebase', 'qf', 'checkhealth', 'TelescopePrompt' },
  -- Restart the client when the daemon goes away, waiting this long between tries.
  restart = { enabled = true, delays_ms = { 50, 200, 500, 1000, 2000 }, give_up_after = 8 },
  completion = {
    enabled = true,
    -- Request ghost text on every change in insert mode. The daemon debounces adaptively and
    -- answers from its cache first, so a plugin-side delay only adds latency; raise it to save
    -- requests on a slow remote model.
    debounce_ms = 0,
    -- 'caret': the plugin draws ghost text (every supported Neovim). 'native': Neovim 0.12+'s
    -- own vim.lsp.inline_completion draws it (no word/line accept or reporting from this plugin).
    engine = 'caret',
    -- Hide ghost text while the popup menu is open.
    hide_during_pum = true,
  },
  next_edit = {
    enabled = true,
    -- Ask for a next edit after the buffer has been still for this long.
    debounce_ms = 75,
    -- Edits within this many lines of the cursor are shown in place; further ones get a marker.
    inline_distance = 12,
    sign_text = '»',
  },
  apply = {
    -- Dim hunks the daemon marks low-importance (renames, whitespace, repeats).
    dim_low_importance = true,
  },
  search = { limit = 50, open_quickfix = true },
  -- Keymaps. Each is a lhs string, or false. Neovim's own defaults are never replaced, and no key
  -- that already has a mapping is taken; set `keymaps = false` to map nothing and use the
  -- <Plug>(caret-...) mappings and :Caret commands instead.
  keymaps = {
    accept = '<M-l>',
    accept_word = '<M-w>',
    accept_line = '<M-j>',
    next = '<M-n>',
    prev = '<M-p>',
    dismiss = '<M-e>',
    trigger = '<M-\\>',
    next_edit_accept = '<M-CR>',
    next_edit_dismiss = '<M-BS>',
  },
  -- Buffer-local keys while an apply/edit review is open (released when it closes).
  review_keymaps = {
    accept = '<M-a>',
    reject = '<M-r>',
    next = '<M-n>',
    prev = '<M-p>',
    accept_all = '<M-A>',
    reject_all = '<M-R>',
  },
  -- Where daemon messages go; `vim.notify` by default, so notification plugins show them.
  notify = nil,
  -- Daemon log messages (window/logMessage) at or above this level reach notify.
  log_level = vim and vim.log and vim.log.levels.WARN or 3,
}

local function is_list(t)
  if type(t) ~= 'table' then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return n > 0
end

local function deep_merge(base, over, path, errors)
  if over == nil then return base end
  if type(base) == 'table' and not is_list(base) and next(base) ~= nil then
    if over == false and (path == 'keymaps' or path == 'review_keymaps') then
      local off = {}
      for k in pairs(base) do off[k] = false end
      return off
    end
    if type(over) ~= 'table' then
      table.insert(errors, string.format('%s must be a table, got %s', path, type(over)))
      return base
    end
    local out = {}
    for k, v in pairs(base) do out[k] = v end
    for k, v in pairs(over) do
      local sub = path == '' and k or (path .. '.' .. k)
      if base[k] == nil and not (path == '' and (k == 'cmd_env' or k == 'notify')) then
        table.insert(errors, string.format('unknown option %s', sub))
      else
        out[k] = deep_merge(base[k], v, sub, errors)
      end
    end
    return out
  end
  if base ~= nil and over ~= nil and type(base) ~= type(over) then
    local allowed = (type(base) == 'string' and over == false) or (base == false and type(over) == 'string')
      or (path == 'cmd' and type(over) == 'string')
    if not allowed then
      table.insert(errors, string.format('%s must be a %s, got %s', path, type(base), type(over)))
      return base
    end
  end
  return over
end

--- Merges `user` over the defaults. Returns the options and a list of problems (unknown keys,
--- wrong types); a problem leaves that option at its default rather than failing setup.
function M.resolve(user)
  local errors = {}
  if user ~= nil and type(user) ~= 'table' then
    return vim.deepcopy(M.defaults), { 'setup() takes a table of options' }
  end
  local opts = deep_merge(M.defaults, user or {}, '', errors)
  if type(opts.cmd) == 'string' then opts.cmd = { opts.cmd } end
  if type(opts.cmd) ~= 'table' or #opts.cmd == 0 then
    table.insert(errors, 'cmd must be a non-empty list, such as { "caret", "lsp" }')
    opts.cmd = M.defaults.cmd
  end
  local engine = opts.completion.engine
  if engine ~= 'caret' and engine ~= 'native' then
    table.insert(errors, "completion.engine must be 'caret' or 'native'")
    opts.completion.engine = 'caret'
  end
  return opts, errors
end

--- Whether caret should attach to a buffer of this filetype.
function M.wants_filetype(opts, filetype)
  for _, ft in ipairs(opts.exclude_filetypes) do
    if ft == filetype then return false end
  end
  if #opts.filetypes == 0 then return true end
  for _, ft in ipairs(opts.filetypes) do
    if ft == filetype then return true end
  end
  return false
end

return M
