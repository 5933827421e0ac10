-- The plugin's headless test, against a real daemon (Neovim 0.7.2 has no `nvim -l`):
--
--   REPROLM_BIN=$PWD/.build/release/reprolm nvim --headless -u NONE -i NONE -n \
--     -c 'set rtp+=clients/nvim' -c 'luafile clients/nvim/tests/run.lua'
--
-- Starts `$REPROLM_BIN serve` on stdio through the plugin (journal and log in a temporary
-- folder), then: a fill-in-the-middle completion in normal mode (:ReprolmComplete) and one in
-- insert mode (the <C-f> mapping), each compared with the answer to the same request sent
-- directly; :ReprolmAsk on a visual selection; :ReprolmReproduce of the answer and of the
-- completion. Prints its log on stdout; exits 0 when every check passed, 1 otherwise.
local uv = vim.loop
local t0 = uv.hrtime()
local failures = 0
local checks = 0

local function log(fmt, ...)
  local text = select('#', ...) > 0 and string.format(fmt, ...) or fmt
  io.stdout:write(string.format('[%6.1fs] %s\n', (uv.hrtime() - t0) / 1e9, text))
  io.stdout:flush()
end

local function check(ok, what, detail)
  checks = checks + 1
  if ok then
    log('ok   %s', what)
  else
    failures = failures + 1
    log('FAIL %s%s', what, detail and (': ' .. detail) or '')
  end
  return ok
end

local function show(value)
  return vim.inspect(value)
end

-- Waits for cond() (processing events meanwhile); false after timeout_ms.
local function wait_for(timeout_ms, cond)
  return vim.wait(timeout_ms, cond, 20)
end

local tmp = vim.fn.tempname()
local daemon_log = tmp .. '/daemon.log'

local function finish()
  local reprolm = package.loaded['reprolm']
  if reprolm then
    reprolm.stop()
    local started = reprolm.state.started
    if started and failures > 0 then
      uv.kill(started.pid, 'sigterm') -- the socket daemon the test started, if still there
    end
  end
  if failures > 0 then
    local f = io.open(daemon_log, 'r')
    if f then
      local text = f:read('*a')
      f:close()
      log('daemon log (%s), last 3000 bytes:\n%s', daemon_log, text:sub(-3000))
    end
  end
  log('%d checks, %d failed', checks, failures)
  vim.fn.delete(tmp, 'rf')
  vim.cmd(failures == 0 and 'qall!' or 'cquit 1')
end

local function main()
  local bin = os.getenv('REPROLM_BIN')
  if not check(bin ~= nil and vim.fn.executable(bin) == 1, 'REPROLM_BIN is an executable', tostring(bin)) then
    return
  end
  log('nvim %s, daemon %s', tostring(vim.version and vim.inspect(vim.version()):gsub('%s+', ' ') or '?'), bin)
  vim.fn.mkdir(tmp, 'p')

  local reprolm = require('reprolm')
  local model = 'qwen2.5-coder-0.5b'
  reprolm.setup({
    args = { '--journal', tmp .. '/journal.jsonl' },
    log = daemon_log,
    model = model,
    ask = { maxTokens = 40 },
  })
  check(reprolm.binary() == bin, 'the plugin finds the binary from REPROLM_BIN', tostring(reprolm.binary()))
  check(vim.fn.exists(':ReprolmComplete') == 2 and vim.fn.exists(':ReprolmAsk') == 2
    and vim.fn.exists(':ReprolmReproduce') == 2, 'setup() defines the commands')

  -- 1. Completion in normal mode: the gap is after the character under the cursor.
  local prefix = 'import math\n\ndef area(r):\n    return '
  local suffix = '\n\nprint(area(2.0))\n'
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(prefix .. suffix:sub(1, -2), '\n', true))
  vim.api.nvim_buf_set_option(buf, 'filetype', 'python')
  vim.api.nvim_win_set_cursor(0, { 4, #'    return ' - 1 })
  local ctx = reprolm.context()
  check(ctx.prefix == prefix and ctx.suffix == suffix, 'the text before and after the cursor', show(ctx))

  local direct, err = reprolm.request_sync('generate', {
    model = model, prompt = prefix, suffix = suffix, maxTokens = 64, temperature = 0, stop = { '\n\n' },
  }, 240000)
  if not check(direct ~= nil and type(direct.text) == 'string', 'the same request sent directly', show(err)) then
    return
  end
  log('direct answer: %s (%s)', show(direct.text), tostring(direct.finishReason))
  check(direct.text ~= '', 'the direct answer is not empty')

  vim.cmd('ReprolmComplete')
  if not check(wait_for(120000, function()
    return reprolm.state.last_completion ~= nil
  end), ':ReprolmComplete answered') then
    return
  end
  local completion = reprolm.state.last_completion
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
  check(completion.text == direct.text, 'the completion equals the direct answer',
    show(completion.text) .. ' vs ' .. show(direct.text))
  check(text == prefix .. direct.text .. suffix, 'the answer is inserted at the cursor', show(text))
  check(type(completion.receipt) == 'string' and completion.receipt:match('^rc%-') ~= nil,
    'the completion has a receipt id', show(completion.receipt))
  check(reprolm.state.last_receipt == completion.receipt, 'it is the last receipt')
  local completion_receipt = completion.receipt

  -- 2. Completion in insert mode through the mapping: the gap is at the cursor.
  local prefix2 = 'def add(a, b):\n    '
  local suffix2 = '\n\nprint(add(2, 3))\n'
  vim.cmd('enew')
  local buf2 = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf2, 0, -1, false, vim.split(prefix2 .. suffix2:sub(1, -2), '\n', true))
  reprolm.state.last_completion = nil
  local direct2 = reprolm.request_sync('generate', {
    model = model, prompt = prefix2, suffix = suffix2, maxTokens = 64, temperature = 0, stop = { '\n\n' },
  }, 120000)
  check(direct2 ~= nil and direct2.text ~= '', 'the second request sent directly', show(direct2 and direct2.text))
  -- 2GA: append at the end of line 2 ("    "), then <C-f>. With 'x!' feedkeys stays in insert mode
  -- (and returns) until something leaves it: a timer checks the answer from insert mode, then
  -- feeds <Esc>.
  local seen = nil
  local deadline = uv.now() + 120000
  local timer
  timer = vim.fn.timer_start(20, function()
    if reprolm.state.last_completion == nil and uv.now() < deadline then
      return
    end
    vim.fn.timer_stop(timer)
    seen = {
      mode = vim.api.nvim_get_mode().mode,
      cursor = vim.api.nvim_win_get_cursor(0),
      text = table.concat(vim.api.nvim_buf_get_lines(buf2, 0, -1, false), '\n') .. '\n',
    }
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<Esc>', true, false, true), 'n', false)
  end, { ['repeat'] = -1 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('2GA<C-f>', true, false, true), 'x!', false)
  if check(reprolm.state.last_completion ~= nil and seen ~= nil, 'the <C-f> mapping answered') and direct2 then
    check(seen.mode == 'i', 'still in insert mode', seen.mode)
    check(seen.text == prefix2 .. direct2.text .. suffix2, 'the insert-mode answer is inserted at the cursor',
      show(seen.text))
    local lines2 = vim.split(prefix2 .. direct2.text, '\n', true)
    check(seen.cursor[1] == #lines2 and seen.cursor[2] == #lines2[#lines2], 'the cursor is after the inserted text',
      show(seen.cursor))
  end
  check(vim.api.nvim_get_mode().mode == 'n', 'back in normal mode', vim.api.nvim_get_mode().mode)

  -- 3. :ReprolmAsk on a visual selection (lines 3-4 of the first buffer, completed above).
  vim.cmd('buffer ' .. buf)
  vim.cmd('execute "normal! 3GVj\\<Esc>"')
  local selection = reprolm.selection(buf, 3, 4)
  check(selection == 'def area(r):\n    return ' .. direct.text, 'the selection', show(selection))
  vim.cmd("'<,'>ReprolmAsk What does this function compute? Answer in one sentence.")
  if not check(wait_for(240000, function()
    return reprolm.state.last_answer ~= nil
  end), ':ReprolmAsk answered') then
    return
  end
  local answer = reprolm.state.last_answer
  log('answer: %s (%s)', show(answer.text), tostring(answer.finishReason))
  check(answer.text ~= '', 'the answer is not empty')
  check(answer.streamed == answer.text, 'it was streamed ($/stream texts add up to it)', show(answer.streamed))
  check(type(answer.receipt) == 'string' and answer.receipt:match('^rc%-') ~= nil, 'the answer has a receipt id',
    show(answer.receipt))
  local shown = table.concat(vim.api.nvim_buf_get_lines(answer.bufnr, 0, -1, false), '\n')
  check(vim.api.nvim_buf_get_name(answer.bufnr):match('reprolm://answers$') ~= nil, 'the answers buffer')
  check(shown:find(answer.text, 1, true) ~= nil, 'the answers buffer shows the answer', show(shown))
  check(shown:find('receipt ' .. tostring(answer.receipt), 1, true) ~= nil, 'and its receipt id', show(shown))
  check(vim.fn.bufwinid(answer.bufnr) >= 0, 'in a window')
  check(vim.api.nvim_get_current_buf() == buf, 'the cursor stays in the code')
  check(reprolm.state.last_receipt == answer.receipt, 'the answer is the last receipt')

  -- 4. :ReprolmReproduce (the last receipt, the answer), then the completion's by id.
  vim.cmd('ReprolmReproduce')
  if check(wait_for(240000, function()
    return reprolm.state.last_reproduce ~= nil
  end), ':ReprolmReproduce answered') then
    local result = reprolm.state.last_reproduce
    check(result.receiptId == answer.receipt, 'it replayed the last receipt', show(result.receiptId))
    check(result.identical == true, 'identical', show(result))
  end
  reprolm.state.last_reproduce = nil
  vim.cmd('ReprolmReproduce ' .. completion_receipt)
  if check(wait_for(120000, function()
    return reprolm.state.last_reproduce ~= nil
  end), ':ReprolmReproduce ' .. completion_receipt .. ' answered') then
    local result = reprolm.state.last_reproduce
    check(result.receiptId == completion_receipt, 'it replayed the completion', show(result.receiptId))
    check(result.identical == true, 'identical', show(result))
  end

  -- 5. Errors reach the user instead of hanging: a model without fill-in-the-middle tokens.
  local refused, refusal = reprolm.request_sync('generate', { model = 'smollm2-135m', prompt = 'a', suffix = 'b' }, 120000)
  check(refused == nil and type(refusal) == 'table' and refusal.code == -32602, 'a refusal comes back as an error',
    show(refusal))

  -- 6. Socket mode: the plugin starts a daemon on a socket, which answers the same bits and
  -- replays (through the shared journal) a receipt of the stdio daemon; then it is reused, and
  -- stopped with shutdown + exit.
  reprolm.stop()
  local sock = tmp .. '/d.sock'
  reprolm.setup({
    socket = sock,
    args = { '--no-model', '--journal', tmp .. '/journal.jsonl' },
    model = model,
  })
  local over_socket, socket_err = reprolm.request_sync('generate', {
    model = model, prompt = prefix, suffix = suffix, maxTokens = 64, temperature = 0, stop = { '\n\n' },
  }, 240000)
  check(reprolm.state.started ~= nil, 'it started a daemon on the socket', show(reprolm.state.started))
  check(over_socket ~= nil and over_socket.text == direct.text, 'the socket daemon gives the same answer',
    show(over_socket and over_socket.text or socket_err))
  reprolm.state.last_reproduce = nil
  vim.cmd('ReprolmReproduce ' .. completion_receipt)
  if check(wait_for(120000, function()
    return reprolm.state.last_reproduce ~= nil
  end), 'the socket daemon replays the completion') then
    check(reprolm.state.last_reproduce.identical == true, 'identical', show(reprolm.state.last_reproduce))
  end
  local started = reprolm.state.started
  reprolm.stop()
  reprolm.state.started = nil
  local listed = reprolm.request_sync('models/list', nil, 30000)
  check(listed ~= nil and reprolm.state.started == nil, 'a new connection reuses the running daemon')
  reprolm.state.started = started
  local down, down_err = reprolm.request_sync('shutdown', nil, 30000)
  check(down == nil and down_err == nil, 'shutdown', show(down_err))
  reprolm.notify('exit')
  check(wait_for(20000, function()
    return vim.loop.fs_stat(sock) == nil
  end), 'exit stops it (the socket file is gone)')
  reprolm.state.started = nil
end

local ok, err = xpcall(main, debug.traceback)
check(ok, 'no Lua error', tostring(err))
finish()
