-- Index state for the statusline: asks caret/index/status when the daemon serves it, and again
-- while indexing is under way (work-done progress also updates the statusline as it comes).
local client = require('caret.client')
local statusline = require('caret.statusline')

local M = {}

local timer = nil

function M.serves(method)
  local c = client.get()
  local caps = c and c.server_capabilities
  local methods = caps and caps.experimental and caps.experimental.caret and caps.experimental.caret.methods
  if type(methods) ~= 'table' then return false end
  for _, m in ipairs(methods) do
    if m == method then return true end
  end
  return false
end

--- Fetches the index status once; polls every 2 s while the daemon is scanning or indexing.
function M.refresh()
  if not M.serves('caret/index/status') then return end
  client.request('caret/index/status', vim.empty_dict(), function(err, result)
    if err then return end
    statusline.index = statusline.summarize(result)
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'CaretState', modeline = false })
    local state = type(statusline.index) == 'table' and statusline.index.state
    if state == 'scanning' or state == 'indexing' then
      timer = timer or vim.loop.new_timer()
      timer:stop()
      timer:start(2000, 0, vim.schedule_wrap(M.refresh))
    end
  end)
end

return M
