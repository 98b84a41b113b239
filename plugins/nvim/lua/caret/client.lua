-- The connection to the daemon: one Neovim LSP client running `caret lsp` for every buffer and
-- workspace of this editor (the daemon is shared, so one connection is enough). Neovim's client
-- syncs the buffers; this module starts it, restarts it when the daemon goes away (buffers are
-- attached again and reopened), routes daemon messages to notify and streamed results to
-- their requests, and tracks state for the statusline.
local M = {}

M.opts = nil
M.client_id = nil
M.state = 'off' -- off | starting | ready | restarting | failed
M.server_version = nil
M.buffers = {} -- bufnr -> true: the buffers caret serves (kept across restarts)
M.folders = {} -- root path -> true
M.progress = {} -- token -> { title, message, percentage, done }
M.partial = {} -- partialResultToken -> function(value)
M.restarts = 0 -- consecutive failed starts
M.started_at = 0
M.listeners = {} -- event name -> list of functions(...)

local stopping = false
-- Folders added while the client was still initializing; announced once it is ready.
local pending_folders = {}
local token_seq = 0

local function notify(msg, level)
  local fn = M.opts and M.opts.notify or vim.notify
  fn(msg, level or vim.log.levels.INFO, { title = 'caret' })
end
M.notify = notify

function M.on(event, fn)
  M.listeners[event] = M.listeners[event] or {}
  table.insert(M.listeners[event], fn)
end

function M.emit(event, ...)
  for _, fn in ipairs(M.listeners[event] or {}) do
    local ok, err = pcall(fn, ...)
    if not ok then vim.schedule(function() notify('caret: ' .. tostring(err), vim.log.levels.ERROR) end) end
  end
end

local function set_state(state)
  if M.state == state then return end
  M.state = state
  M.emit('state', state)
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretState', modeline = false })
end

--- The live client, or nil.
function M.get()
  if not M.client_id then return nil end
  local client = vim.lsp.get_client_by_id(M.client_id)
  if client and client.initialized then return client end
  return nil
end

--- The position encoding negotiated with the daemon.
function M.encoding()
  local client = M.get()
  return client and client.offset_encoding or 'utf-16'
end

--- The directory that roots `path`'s workspace: the nearest ancestor holding a root marker,
--- else the file's own directory.
function M.find_root(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local markers = M.opts and M.opts.root_markers or {}
  local current = dir
  while current and current ~= '' do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(current .. '/' .. marker) then return current end
    end
    local parent = vim.fn.fnamemodify(current, ':h')
    if parent == current then break end
    current = parent
  end
  return dir
end

local function client_env()
  -- An auto-started daemon does not share this editor's environment; the variables that decide
  -- how it reaches models travel with the connection.
  local env = {}
  for name, value in pairs(vim.fn.environ()) do
    if name == 'PATH' or name:match('_PROXY$') or name:match('_proxy$') or name == 'NODE_EXTRA_CA_CERTS'
      or name == 'SSL_CERT_FILE' or name:match('_API_KEY$') then
      env[name] = value
    end
  end
  return env
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = { dynamicRegistration = false }
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.experimental = caps.experimental or {}
  caps.experimental.caret = { client = 'caret.nvim' }
  return caps
end

local levels = { [1] = vim.log.levels.ERROR, [2] = vim.log.levels.WARN, [3] = vim.log.levels.INFO, [4] = vim.log.levels.DEBUG, [5] = vim.log.levels.DEBUG }

local function message_text(message)
  if message:match('^caret') then return message end
  return 'caret: ' .. message
end

local handlers = {}

handlers['window/showMessage'] = function(_, params)
  if type(params) ~= 'table' then return vim.NIL end
  local level = levels[params.type] or vim.log.levels.INFO
  vim.schedule(function() notify(message_text(params.message or ''), level) end)
  return vim.NIL
end

handlers['window/logMessage'] = function(_, params)
  if type(params) ~= 'table' then return vim.NIL end
  local level = levels[params.type] or vim.log.levels.INFO
  if level >= (M.opts and M.opts.log_level or vim.log.levels.WARN) then
    vim.schedule(function() notify(message_text(params.message or ''), level) end)
  end
  return vim.NIL
end

handlers['window/workDoneProgress/create'] = function(_, params)
  if type(params) == 'table' and params.token ~= nil then
    M.progress[params.token] = M.progress[params.token] or { title = '', done = false }
  end
  return vim.NIL
end

handlers['$/progress'] = function(err, params, ctx, config)
  if type(params) ~= 'table' then return end
  local receiver = M.partial[params.token]
  if receiver then
    receiver(params.value)
    return
  end
  local value = params.value
  if type(value) == 'table' and value.kind then
    local entry = M.progress[params.token] or {}
    if value.kind == 'begin' then entry = { title = value.title or '', done = false } end
    if value.message then entry.message = value.message end
    if value.percentage then entry.percentage = value.percentage end
    if value.kind == 'end' then entry.done = true end
    M.progress[params.token] = entry
    M.emit('progress', params.token, entry)
    if entry.done then M.progress[params.token] = nil end
  end
  -- Let progress UIs (fidget and the like) see it too.
  local default = vim.lsp.handlers['$/progress']
  if default then pcall(default, err, params, ctx, config) end
end

--- A fresh partialResultToken whose `$/progress` values go to `receiver`; call the returned
--- function to stop listening.
function M.partial_token(receiver)
  token_seq = token_seq + 1
  local token = 'caret.nvim/' .. token_seq
  M.partial[token] = receiver
  return token, function() M.partial[token] = nil end
end

local restart -- forward

local function on_exit(code, signal, id)
  vim.schedule(function()
    if id ~= M.client_id then return end
    M.client_id = nil
    M.server_version = nil
    M.emit('exit', code, signal)
    if stopping or not (M.opts and M.opts.restart.enabled) then
      set_state('off')
      return
    end
    restart(code)
  end)
end

local function start_client(root)
  local folders = {}
  for path in pairs(M.folders) do
    table.insert(folders, { uri = vim.uri_from_fname(path), name = path })
  end
  table.sort(folders, function(a, b) return a.uri < b.uri end)
  if root and not M.folders[root] then
    M.folders[root] = true
    table.insert(folders, 1, { uri = vim.uri_from_fname(root), name = root })
  end
  local cmd = M.opts.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    set_state('failed')
    notify(string.format("caret: '%s' was not found; install caret (npm install -g caret) or set cmd in require('caret').setup{}", cmd[1]), vim.log.levels.ERROR)
    return nil
  end
  set_state(M.restarts > 0 and 'restarting' or 'starting')
  M.started_at = vim.loop.now()
  local id = vim.lsp.start_client({
    name = 'caret',
    cmd = cmd,
    cmd_env = M.opts.cmd_env,
    root_dir = root or (folders[1] and vim.uri_to_fname(folders[1].uri)) or vim.loop.cwd(),
    workspace_folders = #folders > 0 and folders or nil,
    capabilities = capabilities(),
    init_options = { env = client_env() },
    handlers = handlers,
    flags = { allow_incremental_sync = true, debounce_text_changes = 0 },
    on_init = function(client, result)
      M.restarts = 0
      M.server_version = result and result.serverInfo and result.serverInfo.version
      client.workspace_folders = folders
      if #pending_folders > 0 then
        client.notify('workspace/didChangeWorkspaceFolders', { event = { added = pending_folders, removed = {} } })
        vim.list_extend(client.workspace_folders, pending_folders)
        pending_folders = {}
      end
      vim.schedule(function()
        set_state('ready')
        M.emit('ready', client)
      end)
    end,
    on_exit = function(code, signal, client_id) on_exit(code, signal, client_id) end,
  })
  M.client_id = id
  return id
end

function restart(code)
  local live = {}
  for bufnr in pairs(M.buffers) do
    if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_buf_is_loaded(bufnr) then live[bufnr] = true end
  end
  M.buffers = live
  M.restarts = M.restarts + 1
  local delays = M.opts.restart.delays_ms
  if M.restarts > M.opts.restart.give_up_after then
    set_state('failed')
    notify(string.format('caret: the daemon stopped %d times in a row (last exit code %s); :CaretRestart tries again, and `caret doctor` or the daemon log says why', M.restarts - 1, tostring(code)), vim.log.levels.ERROR)
    return
  end
  set_state('restarting')
  local delay = delays[math.min(M.restarts, #delays)] or 1000
  vim.defer_fn(function()
    if M.client_id or stopping then return end
    local id = start_client(nil)
    if not id then return end
    for bufnr in pairs(M.buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then vim.lsp.buf_attach_client(bufnr, id) end
    end
  end, delay)
end

--- Serves `bufnr`: starts the client if needed and attaches the buffer (Neovim then sends
--- didOpen and every change). Adds the buffer's workspace root when it is new.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then return false end
  local root = M.find_root(name)
  M.buffers[bufnr] = true
  stopping = false
  if not M.client_id then
    if M.state == 'failed' and M.restarts > 0 then return false end
    if not start_client(root) then return false end
  elseif not M.folders[root] then
    M.folders[root] = true
    local folder = { uri = vim.uri_from_fname(root), name = root }
    local client = M.get()
    if client then
      client.notify('workspace/didChangeWorkspaceFolders', { event = { added = { folder }, removed = {} } })
      client.workspace_folders = client.workspace_folders or {}
      table.insert(client.workspace_folders, folder)
    else
      table.insert(pending_folders, folder)
    end
  end
  return vim.lsp.buf_attach_client(bufnr, M.client_id)
end

function M.detach(bufnr)
  M.buffers[bufnr] = nil
end

--- Sends a request; `callback(err, result)` runs on the main loop. Returns a function that
--- cancels it (the daemon then stops the work), or nil when no client is ready.
function M.request(method, params, callback, bufnr)
  local client = M.get()
  if not client then
    callback({ code = -32002, message = 'caret is not connected (state: ' .. M.state .. ')' }, nil)
    return nil
  end
  local ok, request_id = client.request(method, params, function(err, result)
    callback(err, result)
  end, bufnr)
  if not ok then
    callback({ code = -32099, message = 'caret: the request could not be sent' }, nil)
    return nil
  end
  return function() pcall(client.cancel_request, request_id) end
end

--- Sends a request and waits for its answer (for commands and :checkhealth, never on keystrokes).
function M.request_sync(method, params, timeout_ms, bufnr)
  local client = M.get()
  if not client then return nil, 'caret is not connected (state: ' .. M.state .. ')' end
  local response, err = client.request_sync(method, params, timeout_ms or 5000, bufnr)
  if not response then return nil, err or 'timed out' end
  if response.err then return nil, response.err.message or vim.inspect(response.err) end
  return response.result, nil
end

function M.notify_daemon(method, params)
  local client = M.get()
  if client then client.notify(method, params) end
end

--- Stops the client (the daemon keeps running for other editors).
function M.stop()
  stopping = true
  if M.client_id then
    local client = vim.lsp.get_client_by_id(M.client_id)
    if client then client.stop() end
  end
  M.client_id = nil
  set_state('off')
end

--- Stops and starts again, reattaching every buffer caret serves.
function M.restart()
  local buffers = M.buffers
  M.stop()
  M.restarts = 0
  vim.defer_fn(function()
    stopping = false
    for bufnr in pairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then M.attach(bufnr) end
    end
  end, 50)
end

return M
