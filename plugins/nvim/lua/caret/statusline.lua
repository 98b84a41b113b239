-- A statusline component: connection state and index progress, e.g. "caret: indexing 42%".
-- `format` is pure (unit-tested); `component` reads the live state.
local M = {}

M.index = nil -- last caret/index/status answer (or nil)

local rank = { error = 4, indexing = 3, scanning = 2, ready = 1 }

--- One status for the statusline from caret/index/status's answer ({ indexes = [...] }, one per
--- root): the busiest state, and progress summed over the roots still at work.
function M.summarize(result)
  if type(result) ~= 'table' or type(result.indexes) ~= 'table' then return result end
  local state, done, total = nil, 0, 0
  for _, index in ipairs(result.indexes) do
    if not state or (rank[index.state] or 0) > (rank[state] or 0) then state = index.state end
    if (index.state == 'scanning' or index.state == 'indexing') and type(index.progress) == 'table' then
      done = done + (index.progress.done or 0)
      total = total + (index.progress.total or 0)
    end
  end
  if not state then return nil end
  return { state = state, progress = total > 0 and { done = done, total = total } or nil }
end

--- The text for a connection `state`, the daemon's index `index` status and work-done
--- `progress` entries (token -> { title, message, percentage }).
function M.format(state, index, progress)
  if state == 'off' then return '' end
  if state == 'starting' then return 'caret: starting' end
  if state == 'restarting' then return 'caret: reconnecting' end
  if state == 'failed' then return 'caret: off (see :checkhealth caret)' end
  for _, entry in pairs(progress or {}) do
    if not entry.done and entry.title and entry.title ~= '' then
      local pct = entry.percentage and string.format(' %d%%', entry.percentage) or ''
      return 'caret: ' .. entry.title:lower() .. pct
    end
  end
  if type(index) == 'table' then
    local st = index.state
    if st == 'scanning' or st == 'indexing' then
      local pct = ''
      local p = index.progress
      if type(p) == 'number' then
        pct = string.format(' %d%%', p <= 1 and math.floor(p * 100) or math.floor(p))
      elseif type(p) == 'table' and p.total and p.total > 0 then
        pct = string.format(' %d%%', math.floor((p.done or 0) * 100 / p.total))
      end
      return 'caret: ' .. st .. pct
    end
    if st == 'error' then return 'caret: index error' end
  end
  return 'caret'
end

function M.component()
  local client = require('caret.client')
  return M.format(client.state, M.index, client.progress)
end

return M
