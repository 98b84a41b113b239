-- caret for Neovim: a thin client of the caret daemon. It renders what the daemon decides and
-- sends the user's keys back; see :help caret.
local config = require('caret.config')
local client = require('caret.client')
local features = require('caret.features')

local M = {}

M.did_setup = false

local function ghost() return require('caret.completion').current() ~= nil end
local function always() return true end
local function next_edit_shown() return require('caret.nextedit').current() ~= nil end

local plug_maps = {
  -- name -> { modes, action, available, description }
  ['accept'] = { 'i', function() require('caret.completion').accept('all') end, ghost, 'accept the ghost text' },
  ['accept-word'] = { 'i', function() require('caret.completion').accept('word') end, ghost, 'accept the next word of the ghost text' },
  ['accept-line'] = { 'i', function() require('caret.completion').accept('line') end, ghost, 'accept the next line of the ghost text' },
  ['next'] = { 'i', function() require('caret.completion').cycle(1) end, always, 'show the next suggestion' },
  ['prev'] = { 'i', function() require('caret.completion').cycle(-1) end, always, 'show the previous suggestion' },
  ['dismiss'] = { 'i', function() require('caret.completion').dismiss() end, ghost, 'dismiss the ghost text' },
  ['trigger'] = { 'i', function() require('caret.completion').request(1) end, always, 'ask for ghost text now' },
  ['next-edit-accept'] = { { 'n', 'i' }, function() require('caret.nextedit').accept() end, next_edit_shown, 'jump to and apply the next edit' },
  ['next-edit-dismiss'] = { { 'n', 'i' }, function() require('caret.nextedit').dismiss() end, next_edit_shown, 'dismiss the next edit' },
}

--- Runs a <Plug> action by name (what the configured keys call through <Cmd>).
function M._run(name)
  local spec = plug_maps[name]
  if spec then spec[2]() end
end

local keymap_for_plug = {
  accept = 'accept',
  accept_word = 'accept-word',
  accept_line = 'accept-line',
  next = 'next',
  prev = 'prev',
  dismiss = 'dismiss',
  trigger = 'trigger',
  next_edit_accept = 'next-edit-accept',
  next_edit_dismiss = 'next-edit-dismiss',
}

local function define_plug_maps()
  for name, spec in pairs(plug_maps) do
    vim.keymap.set(spec[1], '<Plug>(caret-' .. name .. ')', function() spec[2]() end, { desc = 'caret: ' .. spec[4], silent = true })
  end
end

--- What a key does when caret has nothing for it: the key itself, except that an unmapped
--- Alt chord is Escape followed by the key (Neovim's own rule for <M-x>).
local function passthrough(lhs)
  local meta = lhs:match('^<[MmAa]%-(.+)>$')
  if meta then
    if #meta > 1 then meta = '<' .. meta .. '>' end
    return '<Esc>' .. meta
  end
  return lhs
end

local function key_is_free(mode, lhs)
  return vim.fn.maparg(lhs, mode) == ''
end

--- Maps the configured keys. A key that already has a mapping is left alone. Where the action
--- has nothing to act on (no ghost text shown), the key does what it would have done unmapped.
local function define_keymaps(keymaps)
  for option, plug in pairs(keymap_for_plug) do
    local lhs = keymaps[option]
    if type(lhs) == 'string' and lhs ~= '' then
      local spec = plug_maps[plug]
      local modes = type(spec[1]) == 'table' and spec[1] or { spec[1] }
      for _, mode in ipairs(modes) do
        if key_is_free(mode, lhs) then
          -- An expression mapping may not change text, so it only decides: the action runs
          -- through <Cmd>, or the key goes through unchanged.
          vim.keymap.set(mode, lhs, function()
            if not spec[3]() then return passthrough(lhs) end
            return string.format("<Cmd>lua require('caret')._run(%q)<CR>", plug)
          end, { expr = true, silent = true, desc = 'caret: ' .. spec[4] })
        end
      end
    end
  end
end

local function should_attach(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then return false end
  if vim.api.nvim_buf_get_name(bufnr) == '' then return false end
  return config.wants_filetype(M.opts, vim.bo[bufnr].filetype)
end

function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not should_attach(bufnr) then return false end
  return client.attach(bufnr)
end

--- Configures caret. Every option has a default that works (see :help caret-options).
function M.setup(user)
  local opts, errors = config.resolve(user)
  M.opts = opts
  client.opts = opts
  if #errors > 0 then
    vim.schedule(function()
      client.notify('caret: setup: ' .. table.concat(errors, '; '), vim.log.levels.WARN)
    end)
  end
  features.define_highlights()
  define_plug_maps()
  if opts.keymaps then define_keymaps(opts.keymaps) end
  local group = vim.api.nvim_create_augroup('caret', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'FileType', 'BufEnter' }, {
    group = group,
    callback = function(args)
      if not client.buffers[args.buf] then M.attach(args.buf) end
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'BufDelete' }, {
    group = group,
    callback = function(args) client.detach(args.buf) end,
  })
  vim.api.nvim_create_autocmd('ColorScheme', { group = group, callback = features.define_highlights })
  require('caret.completion').setup_autocmds(group)
  require('caret.nextedit').setup_autocmds(group)
  if opts.completion.engine == 'native' then
    if features.native_inline_completion then
      client.on('ready', function(c) pcall(vim.lsp.inline_completion.enable, true, { client_id = c.id }) end)
    else
      vim.schedule(function()
        client.notify("caret: completion.engine = 'native' needs Neovim 0.12; drawing ghost text itself", vim.log.levels.WARN)
      end)
      opts.completion.engine = 'caret'
    end
  end
  client.on('ready', function() require('caret.index').refresh() end)
  M.did_setup = true
  -- Buffers already open (setup after startup, or a lazy-loaded plugin).
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then M.attach(bufnr) end
  end
end

function M.statusline()
  return require('caret.statusline').component()
end

function M.status()
  return {
    state = client.state,
    client_id = client.client_id,
    server_version = client.server_version,
    buffers = vim.tbl_keys(client.buffers),
    index = require('caret.statusline').index,
  }
end

M.restart = client.restart
M.stop = client.stop

function M.search(query, opts) return require('caret.search').search(query, opts) end
function M.apply(opts) return require('caret.apply').apply(opts) end
function M.edit(opts) return require('caret.apply').edit(opts) end

return M
