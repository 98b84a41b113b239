-- What this Neovim can do, detected once. Newer releases add drawing and LSP features; the
-- plugin uses them where present and falls back where not (Debian 12 ships 0.7.2).
local M = {}

local function has(feature) return vim.fn.has(feature) == 1 end

M.version = vim.version()
-- Inline virtual text (virt_text_pos = 'inline'): ghost text inside a line.
M.inline_virt_text = has('nvim-0.10')
-- vim.lsp.inline_completion: Neovim 0.12's own inline completion.
M.native_inline_completion = vim.lsp ~= nil and vim.lsp.inline_completion ~= nil
-- vim.health.start/ok/... (0.10); report_* (0.8); require('health') (0.7).
M.health = (vim.health and vim.health.start and 'modern') or (vim.health and vim.health.report_start and 'report') or 'legacy'

function M.describe()
  return string.format('Neovim %d.%d.%d: inline ghost text %s, native inline completion %s',
    M.version.major, M.version.minor, M.version.patch,
    M.inline_virt_text and 'yes' or 'no (overlay and virtual lines)',
    M.native_inline_completion and 'available' or 'no')
end

--- Defines the plugin's highlight groups, linked to standard ones so colour schemes apply.
function M.define_highlights()
  local links = {
    CaretGhostText = 'Comment',
    CaretGhostReplaced = 'DiffDelete',
    CaretNextEdit = 'DiffAdd',
    CaretNextEditDelete = 'DiffDelete',
    CaretNextEditSign = 'DiagnosticHint',
    CaretHunkAdd = 'DiffAdd',
    CaretHunkDelete = 'DiffDelete',
    CaretHunkDim = 'Comment',
    CaretHunkCurrent = 'CursorLine',
  }
  for group, target in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

return M
