-- A minimal test runner for the plugin's pure logic, run inside Neovim:
--   nvim --headless -u NONE -i NONE --cmd 'set rtp^=plugins/nvim' -c 'luafile plugins/nvim/test/runner.lua'
-- It loads every test/unit/*_spec.lua, runs its `describe`/`it` blocks, prints one line per test
-- and a closing "N passed, N failed" line, and exits non-zero when a test fails.
-- CARET_TEST_FILTER (a plain substring) selects tests by their full name.
local here = debug.getinfo(1, 'S').source:sub(2):match('(.*/)') or './'

local results = { passed = 0, failed = 0, failures = {} }
local stack = {}
local filter = os.getenv('CARET_TEST_FILTER')

local function full_name(name)
  local parts = {}
  for _, s in ipairs(stack) do table.insert(parts, s) end
  table.insert(parts, name)
  return table.concat(parts, ' > ')
end

function _G.describe(name, fn)
  table.insert(stack, name)
  fn()
  table.remove(stack)
end

function _G.it(name, fn)
  local full = full_name(name)
  if filter and not full:find(filter, 1, true) then return end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    results.passed = results.passed + 1
    io.stdout:write('ok - ' .. full .. '\n')
  else
    results.failed = results.failed + 1
    table.insert(results.failures, { name = full, err = err })
    io.stdout:write('not ok - ' .. full .. '\n')
  end
end

local function show(v) return vim.inspect(v) end

--- Assertions: eq (deep), truthy, falsy, errors.
_G.expect = {
  eq = function(actual, expected, message)
    if not vim.deep_equal(actual, expected) then
      error(string.format('%sexpected %s\n     got %s', message and (message .. ': ') or '', show(expected), show(actual)), 2)
    end
  end,
  truthy = function(value, message)
    if not value then error((message or 'expected a truthy value') .. ', got ' .. show(value), 2) end
  end,
  falsy = function(value, message)
    if value then error((message or 'expected a falsy value') .. ', got ' .. show(value), 2) end
  end,
  errors = function(fn, pattern)
    local ok, err = pcall(fn)
    if ok then error('expected an error', 2) end
    if pattern and not tostring(err):find(pattern) then error('error ' .. tostring(err) .. ' does not match ' .. pattern, 2) end
  end,
}

local specs = vim.fn.globpath(here .. 'unit', '*_spec.lua', false, true)
table.sort(specs)
for _, spec in ipairs(specs) do
  local chunk, load_err = loadfile(spec)
  if not chunk then
    results.failed = results.failed + 1
    table.insert(results.failures, { name = spec, err = load_err })
  else
    table.insert(stack, vim.fn.fnamemodify(spec, ':t:r'))
    local ok, err = xpcall(chunk, debug.traceback)
    table.remove(stack)
    if not ok then
      results.failed = results.failed + 1
      table.insert(results.failures, { name = spec, err = err })
    end
  end
end

for _, f in ipairs(results.failures) do
  io.stdout:write('\nFAIL ' .. f.name .. '\n' .. tostring(f.err) .. '\n')
end
io.stdout:write(string.format('\n%d passed, %d failed\n', results.passed, results.failed))
io.stdout:flush()
vim.cmd(results.failed == 0 and results.passed > 0 and 'qall!' or 'cquit!')
