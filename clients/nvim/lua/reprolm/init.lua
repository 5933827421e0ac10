-- reprolm for Neovim (0.7.2 and later, no dependencies): fill-in-the-middle completion at the
-- cursor, questions about a selection, and replay of any answer's receipt.
--
--   require('reprolm').setup{}                       -- `reprolm serve` on stdio, started on demand
--   require('reprolm').setup{socket = true}          -- the daemon on the default Unix socket
--
-- See clients/nvim/README.md.
local rpc = require('reprolm.rpc')
local uv = vim.loop

local M = {}

local defaults = {
  -- How to start the daemon (stdio): nil finds the binary as reprolm-call does ($REPROLM_BIN,
  -- reprolm on PATH, this checkout's .build/release/reprolm); a string is the binary; a list is
  -- the whole command line (then `args` and `model` are not added).
  cmd = nil,
  -- More arguments for `reprolm serve` (e.g. {'--journal', path}).
  args = {},
  -- nil/false: start `reprolm serve` on stdio, owned by this Neovim. true: the daemon on the
  -- default socket ($REPROLM_SOCKET, $XDG_RUNTIME_DIR/reprolm.sock, /tmp/reprolm-<uid>/reprolm.sock);
  -- a string: that socket. A daemon is started there when none answers (see `start`).
  socket = nil,
  -- Socket mode: start `reprolm serve --socket PATH` in the background when nothing answers.
  start = true,
  -- The model of both features (loaded at start in stdio mode); it needs fill-in-the-middle
  -- tokens for completion.
  model = 'qwen2.5-coder-0.5b',
  -- generate params of the completion (any of protocol/openrpc.json's; `model` overrides).
  complete = { maxTokens = 64, temperature = 0, stop = { '\n\n' } },
  -- generate params of :ReprolmAsk.
  ask = { maxTokens = 512, temperature = 0 },
  -- Lines before and after the cursor sent with a completion (nil: the whole buffer). The daemon
  -- keeps the last 1536 tokens before the gap and the first 510 after it, as llama-server does.
  context_lines = 1000,
  -- Stream :ReprolmAsk's answer into its buffer as it is generated.
  stream = true,
  -- Insert-mode key for the completion (false: none). <Plug>(reprolm-complete) exists in insert
  -- and normal mode either way.
  keymap = '<C-f>',
  -- Where the daemon's stderr goes (stdio mode).
  log = nil, -- default: stdpath('cache') .. '/reprolm.log'
  -- Socket mode: how long to wait for a started daemon to listen, in ms.
  start_timeout = 60000,
}

M.config = vim.deepcopy(defaults)

-- What the plugin remembers; tests and statuslines may read it.
M.state = {
  last_receipt = nil, -- the id of the newest receipt (completion or answer)
  last_completion = nil, -- {text, receipt, model, finishReason}
  last_answer = nil, -- {text, receipt, model, finishReason, bufnr}
  last_reproduce = nil, -- the newest reproduce result
  started = nil, -- socket mode: {pid, log, socket} of the daemon this Neovim started
}

local client = nil -- the connection (rpc.lua), nil when there is none
local connecting = nil -- socket mode: callbacks waiting for the connection
local streams = {} -- request id -> function(params) for $/stream
local completion = nil -- {id, seq}: the completion in flight
local completion_seq = 0
local asking = nil -- {id}: the :ReprolmAsk in flight

local function message(text, level)
  local hl = ({ error = 'ErrorMsg', warn = 'WarningMsg' })[level]
  vim.api.nvim_echo({ { 'reprolm: ' .. text, hl } }, level ~= nil, {})
end

local function error_text(err)
  if err.code == false or err.code == nil then
    return tostring(err.message)
  end
  local text = string.format('[%s] %s', tostring(err.code), tostring(err.message))
  if err.data ~= nil and err.data ~= vim.NIL then
    local ok, data = pcall(vim.json.encode, err.data)
    if ok then
      text = text .. ' ' .. data
    end
  end
  return text
end

local function executable(path)
  return path ~= nil and path ~= '' and vim.fn.executable(path) == 1
end

-- The binary, found as clients/reprolm-call finds it.
function M.binary()
  local cmd = M.config.cmd
  if type(cmd) == 'string' then
    return cmd
  elseif type(cmd) == 'table' then
    return cmd[1]
  end
  local env = vim.env.REPROLM_BIN
  if env ~= nil and env ~= '' then
    if not executable(env) then
      return nil, 'REPROLM_BIN=' .. env .. ' is not an executable file'
    end
    return env
  end
  local on_path = vim.fn.exepath('reprolm')
  if on_path ~= '' then
    return on_path
  end
  -- This file is <repo>/clients/nvim/lua/reprolm/init.lua.
  local source = debug.getinfo(1, 'S').source:gsub('^@', '')
  local root = vim.fn.fnamemodify(source, ':p:h:h:h:h:h')
  local built = root .. '/.build/release/reprolm'
  if executable(built) then
    return built
  end
  return nil, 'no reprolm binary: set REPROLM_BIN, put reprolm on PATH, build ' .. built
    .. ' (swift build -c release --product reprolm), or pass cmd to setup()'
end

function M.socket_path()
  local socket = M.config.socket
  if type(socket) == 'string' and socket ~= '' then
    return socket
  end
  local env = vim.env.REPROLM_SOCKET
  if env ~= nil and env ~= '' then
    return env
  end
  local runtime = vim.env.XDG_RUNTIME_DIR
  if runtime ~= nil and runtime:sub(1, 1) == '/' then
    runtime = runtime:gsub('/+$', '')
    return runtime .. '/reprolm.sock'
  end
  return string.format('/tmp/reprolm-%d/reprolm.sock', uv.getuid())
end

local function command_line()
  local cmd = M.config.cmd
  if type(cmd) == 'table' then
    return vim.deepcopy(cmd)
  end
  local bin, err = M.binary()
  if not bin then
    return nil, err
  end
  local line = { bin, 'serve' }
  if M.config.model then
    vim.list_extend(line, { '--model', M.config.model })
  end
  vim.list_extend(line, M.config.args or {})
  return line
end

local handlers = {
  on_notification = function(method, params)
    if method == '$/stream' and type(params) == 'table' then
      local on_stream = streams[params.requestId]
      if on_stream then
        on_stream(params)
      end
    elseif method == '$/error' and type(params) == 'table' then
      message('the daemon reported: ' .. error_text(params), 'error')
    end
  end,
}

-- The connection ended: forget it (the next request starts or connects again). Say why when the
-- daemon failed and no request of ours reports it (not when it closed an idle socket connection
-- or was stopped).
local function forget(conn)
  return function(reason, pending)
    if client == conn then
      client = nil
    end
    if pending == 0 and reason ~= 'stopped' and (reason:match('status [1-9]') or reason:match('signal')
        or reason:match('invalid') or reason:match('failed')) then
      message(reason, 'error')
    end
  end
end

local function log_tail(path, lines)
  local f = io.open(path, 'r')
  if not f then
    return ''
  end
  local size = f:seek('end')
  f:seek('set', math.max(0, size - 4096))
  local text = f:read('*a') or ''
  f:close()
  local all = vim.split(text:gsub('%s+$', ''), '\n', true)
  return table.concat(all, '\n', math.max(1, #all - lines + 1))
end

-- Calls on_ready(conn) once connected (starting the daemon if needed), or on_ready(nil, message).
local function with_client(on_ready)
  if client and not client.closed then
    on_ready(client)
    return
  end
  if connecting then
    table.insert(connecting, on_ready)
    return
  end
  if not M.config.socket then
    local line, err = command_line()
    if not line then
      on_ready(nil, err)
      return
    end
    local log = M.config.log or (vim.fn.stdpath('cache') .. '/reprolm.log')
    vim.fn.mkdir(vim.fn.fnamemodify(log, ':h'), 'p')
    local conn, spawn_err = rpc.spawn(line, log, vim.deepcopy(handlers))
    if not conn then
      on_ready(nil, spawn_err)
      return
    end
    conn.handlers.on_close = forget(conn)
    client = conn
    on_ready(conn)
    return
  end

  connecting = { on_ready }
  local path = M.socket_path()
  local function finish(conn, err)
    local waiting = connecting or {}
    connecting = nil
    if conn then
      conn.handlers.on_close = forget(conn)
      client = conn
    end
    for _, callback in ipairs(waiting) do
      callback(conn, err)
    end
  end
  local started = nil
  local deadline = uv.now() + (M.config.start_timeout or 60000)
  local function attempt()
    rpc.connect(path, vim.deepcopy(handlers), function(conn, err, errname)
      if conn then
        finish(conn)
        return
      end
      local nobody = errname == 'ENOENT' or errname == 'ECONNREFUSED'
      if not nobody or not M.config.start then
        finish(nil, err)
        return
      end
      if not started then
        local bin, bin_err = M.binary()
        if not bin then
          finish(nil, err .. '; ' .. bin_err)
          return
        end
        local dir = vim.fn.fnamemodify(path, ':h')
        if vim.fn.isdirectory(dir) == 0 then
          vim.fn.mkdir(dir, 'p', 448) -- 0700
        end
        local log = dir .. '/' .. vim.fn.fnamemodify(path, ':t'):gsub('%.sock$', '') .. '.log'
        local child, start_err = rpc.start_detached(bin, path, log, M.config.args)
        if not child then
          finish(nil, start_err)
          return
        end
        started = { child = child, log = log }
        M.state.started = { pid = child.pid, log = log, socket = path }
        message(string.format('started %s serve --socket %s (pid %d), logging to %s', bin, path, child.pid, log))
      elseif started.child.exited then
        finish(nil, string.format('the daemon (pid %d) exited with status %s before listening on %s; %s ends with:\n%s',
          started.child.pid, tostring(started.child.status), path, started.log, log_tail(started.log, 5)))
        return
      end
      if uv.now() > deadline then
        finish(nil, string.format('the daemon did not listen on %s in time (still loading? see %s)', path, started.log))
        return
      end
      vim.defer_fn(attempt, 100)
    end)
  end
  attempt()
end

-- Sends one request; callback(err, result) on the main loop. on_stream(params) gets its $/stream
-- notifications (pass params.stream = true). Returns nothing: the id goes to on_sent(id, conn).
function M.request(method, params, callback, on_stream, on_sent)
  with_client(function(conn, err)
    if not conn then
      callback({ code = false, message = err }, nil)
      return
    end
    local id
    id = conn:request(method, params, function(rpc_err, result)
      if id then
        streams[id] = nil
      end
      callback(rpc_err, result)
    end)
    if id and on_stream then
      streams[id] = on_stream
    end
    if on_sent and id then
      on_sent(id, conn)
    end
  end)
end

-- Sends a notification (e.g. exit after shutdown).
function M.notify(method, params)
  with_client(function(conn)
    if conn then
      conn:notify(method, params)
    end
  end)
end

-- The same request, waited for (at most timeout ms; default 120 s). Returns result, err.
function M.request_sync(method, params, timeout)
  local done, result, err = false, nil, nil
  M.request(method, params, function(e, r)
    done, err, result = true, e, r
  end)
  if not vim.wait(timeout or 120000, function()
    return done
  end, 20) then
    return nil, { code = false, message = method .. ': no answer in time' }
  end
  return result, err
end

local function merged(base, extra)
  local out = vim.deepcopy(base or {})
  for k, v in pairs(extra or {}) do
    out[k] = vim.deepcopy(v)
  end
  return out
end

local function receipt_id(result)
  local receipt = type(result) == 'table' and result.receipt or nil
  if type(receipt) == 'table' and type(receipt.id) == 'string' then
    return receipt.id
  end
  return nil
end

-- ---------------------------------------------------------------------------------------------
-- Completion (fill in the middle)
-- ---------------------------------------------------------------------------------------------

-- The text before and after the gap: in insert mode the gap is at the cursor; in normal mode it
-- is after the character under the cursor (where `a` would insert).
function M.context(bufnr, winid)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  winid = winid or vim.api.nvim_get_current_win()
  local cursor = vim.api.nvim_win_get_cursor(winid)
  local row, col = cursor[1] - 1, cursor[2]
  local limit = M.config.context_lines
  local first = limit and math.max(0, row - limit) or 0
  local last = limit and (row + 1 + limit) or -1
  local lines = vim.api.nvim_buf_get_lines(bufnr, first, last, false)
  local at_end = last == -1 or last >= vim.api.nvim_buf_line_count(bufnr)
  row = row - first -- from here on, an index into lines
  local line = lines[row + 1] or ''
  local mode = vim.api.nvim_get_mode().mode
  local inserting = mode:sub(1, 1) == 'i' or mode:sub(1, 1) == 'R'
  if not inserting and #line > 0 then
    -- after the whole (possibly multi-byte) character under the cursor
    local char = vim.fn.strpart(line, col, 1, true)
    col = math.min(col + math.max(#char, 1), #line)
  end
  col = math.min(col, #line)
  local before = {}
  for i = 1, row do
    before[i] = lines[i]
  end
  before[#before + 1] = line:sub(1, col)
  local after = { line:sub(col + 1) }
  for i = row + 2, #lines do
    after[#after + 1] = lines[i]
  end
  local suffix = table.concat(after, '\n')
  if not at_end or vim.api.nvim_buf_get_option(bufnr, 'eol') or vim.api.nvim_buf_get_option(bufnr, 'fixeol') then
    suffix = suffix .. '\n'
  end
  return { prefix = table.concat(before, '\n'), suffix = suffix, row = row + first, col = col }
end

-- The generate params of a completion of the gap in ctx.
function M.completion_params(ctx)
  local params = merged({ model = M.config.model }, M.config.complete)
  params.prompt = ctx.prefix
  params.suffix = ctx.suffix
  return params
end

local function insert_text(bufnr, row, col, text)
  local lines = vim.split(text, '\n', true)
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local end_row = row + #lines - 1
  local end_col = (#lines == 1) and (col + #lines[1]) or #lines[#lines]
  return end_row, end_col
end

-- Completes at the cursor: the answer is inserted where the cursor was when asked, if the buffer
-- has not changed since (else it is dropped). done(err, result) is called at the end, if given.
function M.complete(done)
  local bufnr = vim.api.nvim_get_current_buf()
  local winid = vim.api.nvim_get_current_win()
  local ctx = M.context(bufnr, winid)
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = M.completion_params(ctx)
  if completion and client then
    client:cancel(completion.id) -- a newer completion replaces it
  end
  completion_seq = completion_seq + 1
  local seq = completion_seq
  completion = { seq = seq }
  local function finish(err, result)
    if done then
      done(err, result)
    end
  end
  M.request('generate', params, function(err, result)
    if completion and completion.seq == seq then
      completion = nil
    end
    if err then
      message('completion failed: ' .. error_text(err), 'error')
      return finish(err, nil)
    end
    local id = receipt_id(result)
    if id then
      M.state.last_receipt = id
    end
    if seq ~= completion_seq then
      return finish({ code = false, message = 'replaced by a newer completion' }, result)
    end
    local text = result.text or ''
    if not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
      message('the buffer changed while completing: completion dropped', 'warn')
      return finish({ code = false, message = 'buffer changed' }, result)
    end
    M.state.last_completion = {
      text = text, receipt = id, model = result.model, finishReason = result.finishReason,
    }
    if text == '' then
      message('no completion (' .. tostring(result.finishReason) .. ')')
      return finish(nil, result)
    end
    local end_row, end_col = insert_text(bufnr, ctx.row, ctx.col, text)
    if vim.api.nvim_win_is_valid(winid) and vim.api.nvim_win_get_buf(winid) == bufnr then
      local mode = vim.api.nvim_get_mode().mode:sub(1, 1)
      local col = end_col
      if mode ~= 'i' and mode ~= 'R' and col > 0 then
        col = col - 1 -- normal mode: on the last inserted character
      end
      vim.api.nvim_win_set_cursor(winid, { end_row + 1, col })
    end
    message(string.format('%d bytes inserted (%s)', #text, id or 'no receipt'))
    finish(nil, result)
  end, nil, function(id)
    if completion and completion.seq == seq then
      completion.id = id
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- :ReprolmAsk
-- ---------------------------------------------------------------------------------------------

local answer_name = 'reprolm://answers'

-- The answers buffer, shown in a split if no window shows it. Returns bufnr, winid.
local function answer_buffer()
  local bufnr = vim.fn.bufnr(answer_name)
  if bufnr < 0 or not vim.api.nvim_buf_is_valid(bufnr) then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, answer_name)
    vim.api.nvim_buf_set_option(bufnr, 'buftype', 'nofile')
    vim.api.nvim_buf_set_option(bufnr, 'bufhidden', 'hide')
    vim.api.nvim_buf_set_option(bufnr, 'swapfile', false)
    vim.api.nvim_buf_set_option(bufnr, 'filetype', 'markdown')
  end
  local winid = vim.fn.bufwinid(bufnr)
  if winid < 0 then
    local current = vim.api.nvim_get_current_win()
    vim.cmd('botright split')
    winid = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(winid, bufnr)
    vim.api.nvim_set_current_win(current)
  end
  return bufnr, winid
end

local function set_region(bufnr, start, text_lines)
  vim.api.nvim_buf_set_lines(bufnr, start, -1, false, text_lines)
  local winid = vim.fn.bufwinid(bufnr)
  if winid >= 0 then
    vim.api.nvim_win_set_cursor(winid, { vim.api.nvim_buf_line_count(bufnr), 0 })
  end
end

-- The selected text of lines line1..line2 of bufnr: the exact characters when the last visual
-- selection was characterwise and covers these lines, else the whole lines.
function M.selection(bufnr, line1, line2)
  local lines = vim.api.nvim_buf_get_lines(bufnr, line1 - 1, line2, false)
  local from, to = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  if vim.fn.visualmode() == 'v' and from[2] == line1 and to[2] == line2 and #lines > 0 then
    local last = lines[#lines]
    local end_byte = math.min(to[3], #last)
    -- include the whole last character
    local char = vim.fn.strpart(last, end_byte - 1, 1, true)
    lines[#lines] = last:sub(1, end_byte - 1 + math.max(#char, 1))
    lines[1] = lines[1]:sub(from[3])
  end
  return table.concat(lines, '\n')
end

-- The chat messages of a question about code.
function M.ask_messages(prompt, code, filetype)
  local content = prompt
  if code and code ~= '' then
    content = string.format('%s\n\n```%s\n%s\n```', prompt, filetype or '', code)
  end
  return { { role = 'user', content = content } }
end

-- Asks prompt about code (may be nil); the answer goes to the answers buffer. done(err, result).
function M.ask(prompt, code, filetype, done)
  if asking then
    message('an answer is still coming (:ReprolmCancel stops it)', 'warn')
    if done then
      done({ code = false, message = 'busy' }, nil)
    end
    return
  end
  local params = merged({ model = M.config.model }, M.config.ask)
  params.messages = M.ask_messages(prompt, code, filetype)
  if M.config.stream then
    params.stream = true
  end
  local bufnr = answer_buffer()
  local first = vim.api.nvim_buf_line_count(bufnr)
  local header = {}
  if first == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == '' then
    first = 0
  else
    header[#header + 1] = ''
  end
  for _, line in ipairs(vim.split('> ' .. prompt, '\n', true)) do
    header[#header + 1] = line
  end
  header[#header + 1] = ''
  set_region(bufnr, first, vim.list_extend(vim.deepcopy(header), { '…' }))
  local start = first + #header
  local streamed = ''
  asking = {}
  M.request('generate', params, function(err, result)
    asking = nil
    if not vim.api.nvim_buf_is_valid(bufnr) then
      bufnr = answer_buffer()
      start = vim.api.nvim_buf_line_count(bufnr)
    end
    if err then
      set_region(bufnr, start, { '(failed: ' .. error_text(err) .. ')' })
      message('ask failed: ' .. error_text(err), 'error')
      if done then
        done(err, nil)
      end
      return
    end
    local id = receipt_id(result)
    if id then
      M.state.last_receipt = id
    end
    local text = result.text or ''
    local lines = vim.split(text, '\n', true)
    local usage = type(result.usage) == 'table' and result.usage or {}
    lines[#lines + 1] = ''
    lines[#lines + 1] = string.format('-- receipt %s (%s, %s tokens, %s)', id or 'none',
      tostring(result.model), tostring(usage.completionTokens), tostring(result.finishReason))
    set_region(bufnr, start, lines)
    M.state.last_answer = {
      text = text, receipt = id, model = result.model, finishReason = result.finishReason, bufnr = bufnr,
      streamed = params.stream and streamed or nil,
    }
    message('answer ' .. (id or '') .. ' (:ReprolmReproduce replays it)')
    if done then
      done(nil, result)
    end
  end, function(chunk)
    if type(chunk.text) == 'string' and chunk.text ~= '' and vim.api.nvim_buf_is_valid(bufnr) then
      streamed = streamed .. chunk.text
      set_region(bufnr, start, vim.split(streamed, '\n', true))
    end
  end, function(id, conn)
    if asking then
      asking.id, asking.conn = id, conn
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- :ReprolmReproduce
-- ---------------------------------------------------------------------------------------------

-- Replays a receipt by its journal id (default: the newest). done(err, result).
function M.reproduce(id, done)
  id = (id ~= nil and id ~= '') and id or M.state.last_receipt
  if not id then
    message('no receipt yet: complete or ask something first, or give a receipt id', 'warn')
    if done then
      done({ code = false, message = 'no receipt' }, nil)
    end
    return
  end
  message('replaying ' .. id .. '…')
  -- By id (a string): the receipt itself holds a seed that Lua numbers cannot carry exactly.
  M.request('reproduce', { id = id }, function(err, result)
    if err then
      message('reproduce ' .. id .. ' failed: ' .. error_text(err), 'error')
      if done then
        done(err, nil)
      end
      return
    end
    M.state.last_reproduce = result
    if result.identical == true then
      message(string.format('%s reproduced: identical (%s, %s, journal %s)', id, tostring(result.method),
        type(result.model) == 'table' and tostring(result.model.name) or '?', tostring(result.journal)))
    else
      local divergence = result.divergence
      local detail = (divergence ~= nil and divergence ~= vim.NIL) and vim.json.encode(divergence) or ''
      message(string.format('%s reproduced: NOT identical %s', id, detail), 'warn')
    end
    if done then
      done(nil, result)
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- Control
-- ---------------------------------------------------------------------------------------------

function M.cancel()
  local cancelled = false
  if client then
    if completion and completion.id then
      client:cancel(completion.id)
      cancelled = true
    end
    if asking and asking.id and asking.conn == client then
      client:cancel(asking.id)
      cancelled = true
    end
  end
  completion_seq = completion_seq + 1 -- a cancelled completion inserts nothing
  if not cancelled then
    message('nothing to cancel')
  end
end

-- Stops the daemon this Neovim started on stdio, or closes the socket connection (the daemon
-- there keeps running for other clients).
function M.stop()
  if client then
    client:close('stopped')
    client = nil
  end
end

function M.setup(opts)
  opts = opts or {}
  local config = vim.deepcopy(defaults)
  for k, v in pairs(opts) do
    if (k == 'complete' or k == 'ask') and type(v) == 'table' then
      config[k] = merged(defaults[k], v) -- one level: a `stop` list replaces the default one
    else
      config[k] = v
    end
  end
  M.stop()
  M.config = config

  local command = vim.api.nvim_create_user_command
  command('ReprolmComplete', function()
    M.complete()
  end, { desc = 'reprolm: fill in the middle at the cursor' })
  command('ReprolmAsk', function(o)
    local prompt = o.args
    if prompt == '' then
      prompt = vim.fn.input('Ask: ')
      if prompt == '' then
        return
      end
    end
    local bufnr = vim.api.nvim_get_current_buf()
    local code = nil
    if o.range > 0 then
      code = M.selection(bufnr, o.line1, o.line2)
    end
    M.ask(prompt, code, vim.api.nvim_buf_get_option(bufnr, 'filetype'))
  end, { range = true, nargs = '*', desc = 'reprolm: ask about the selected lines' })
  command('ReprolmReproduce', function(o)
    M.reproduce(o.args)
  end, { nargs = '?', desc = 'reprolm: replay a receipt (default: the last one)' })
  command('ReprolmCancel', function()
    M.cancel()
  end, { desc = 'reprolm: cancel the completion or answer in flight' })
  command('ReprolmStop', function()
    M.stop()
  end, { desc = 'reprolm: stop the daemon (stdio) or disconnect (socket)' })

  vim.keymap.set({ 'i', 'n' }, '<Plug>(reprolm-complete)', function()
    M.complete()
  end, { desc = 'reprolm: fill in the middle at the cursor' })
  if config.keymap then
    vim.keymap.set('i', config.keymap, '<Plug>(reprolm-complete)', { remap = true })
  end

  local group = vim.api.nvim_create_augroup('reprolm', { clear = true })
  vim.api.nvim_create_autocmd('VimLeavePre', {
    group = group,
    callback = function()
      M.stop()
    end,
  })
  return M
end

return M
