-- :checkhealth caret: Neovim features, the caret command, the daemon's version and its doctor.
local M = {}

local function reporter()
  local features = require('caret.features')
  if features.health == 'modern' then
    return { start = vim.health.start, ok = vim.health.ok, warn = vim.health.warn, error = vim.health.error, info = vim.health.info }
  end
  local h = features.health == 'report' and vim.health or require('health')
  return { start = h.report_start, ok = h.report_ok, warn = h.report_warn, error = h.report_error, info = h.report_info }
end

function M.check()
  local report = reporter()
  local features = require('caret.features')
  local caret = require('caret')
  local client = require('caret.client')
  report.start('caret: editor')
  report.ok(features.describe())
  if not caret.did_setup then
    report.warn("require('caret').setup{} has not run: buffers are not served", { 'Call it from your init.lua, or let lazy.nvim do it with opts = {}' })
    return
  end
  report.start('caret: daemon')
  local cmd = client.opts.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    report.error(string.format("'%s' is not executable", cmd[1]), { 'Install caret (npm install -g caret) or set cmd in setup{}' })
    return
  end
  report.ok('command: ' .. table.concat(cmd, ' '))
  -- `caret lsp` -> `caret --version` (any wrapper words before it are kept).
  local version_cmd = vim.deepcopy(cmd)
  if version_cmd[#version_cmd] == 'lsp' then table.remove(version_cmd) end
  table.insert(version_cmd, '--version')
  local version = vim.fn.system(version_cmd)
  if vim.v.shell_error == 0 then report.ok('caret version: ' .. vim.trim(version)) end
  if not client.get() then
    report.warn('not connected (state: ' .. client.state .. ')', { 'Open a file (caret attaches to file buffers), or :CaretRestart' })
    return
  end
  local status, err = client.request_sync('caret/status', vim.empty_dict(), 3000)
  if not status then
    report.error('the daemon did not answer caret/status: ' .. tostring(err))
    return
  end
  report.ok(string.format('daemon %s (protocol %s), pid %d, %d connection(s)', status.version, status.protocolVersion, status.pid, #status.connections))
  local cli = vim.trim(version or '')
  if cli ~= '' and not cli:find(status.version, 1, true) then
    report.warn(string.format('the daemon runs %s but the caret command is %s', status.version, cli), { 'Run `caret stop`; the next request starts the new version' })
  end
  report.info('position encoding: ' .. client.encoding())
  report.start('caret: doctor')
  local doctor, derr = client.request_sync('caret/doctor', vim.empty_dict(), 10000)
  if not doctor then
    report.error('caret/doctor failed: ' .. tostring(derr))
    return
  end
  for _, check in ipairs(doctor.checks) do
    local line = check.name .. ': ' .. check.detail
    if check.status == 'ok' then
      report.ok(line)
    elseif check.status == 'warn' then
      report.warn(line, check.fix and { check.fix } or nil)
    else
      report.error(line, check.fix and { check.fix } or nil)
    end
  end
end

return M
