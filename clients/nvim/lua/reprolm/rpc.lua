-- JSON-RPC 2.0 over a libuv stream with Content-Length framing: the stdin/stdout of a
-- `reprolm serve` child, or a connection to a daemon's Unix socket. Only Neovim 0.7.2 APIs
-- (vim.loop, vim.json, vim.schedule). Callbacks run on the main loop (vim.schedule), never in a
-- libuv callback, so they may call any nvim API.
local uv = vim.loop

local M = {}

local Conn = {}
Conn.__index = Conn

-- handlers: {on_notification = function(method, params), on_close = function(reason)}
local function new(handlers)
  return setmetatable({
    handlers = handlers or {},
    next_id = 0,
    pending = {}, -- id -> callback(err, result)
    buffer = '',
    queue = {}, -- frames written before the connection is up
    ready = false,
    closed = false,
    stderr_tail = '',
  }, Conn)
end

-- An empty Lua table is encoded as [] by vim.json: params must always be an object.
local function as_object(params)
  if params == nil or (type(params) == 'table' and next(params) == nil) then
    return vim.empty_dict()
  end
  return params
end
M.as_object = as_object

function Conn:_write(frame)
  if self.closed then
    return false
  end
  if not self.ready then
    table.insert(self.queue, frame)
    return true
  end
  self.writer:write(frame)
  return true
end

function Conn:_send(message)
  local body = vim.json.encode(message)
  return self:_write(string.format('Content-Length: %d\r\n\r\n%s', #body, body))
end

-- Sends a request; callback(err, result) runs on the main loop once it is answered (err is the
-- JSON-RPC error object {code, message, data}, or {code = false, message = ...} when the
-- connection ended first). Returns the request id, or nil if the connection is closed.
function Conn:request(method, params, callback)
  if self.closed then
    vim.schedule(function()
      callback({ code = false, message = 'not connected to the daemon' }, nil)
    end)
    return nil
  end
  self.next_id = self.next_id + 1
  local id = self.next_id
  self.pending[id] = callback
  self:_send({ jsonrpc = '2.0', id = id, method = method, params = as_object(params) })
  return id
end

function Conn:notify(method, params)
  return self:_send({ jsonrpc = '2.0', method = method, params = as_object(params) })
end

function Conn:cancel(id)
  if id and self.pending[id] then
    self:notify('$/cancelRequest', { id = id })
  end
end

function Conn:_dispatch(message)
  if type(message) ~= 'table' then
    return
  end
  if type(message.method) == 'string' then
    if message.id == nil and self.handlers.on_notification then
      self.handlers.on_notification(message.method, message.params)
    end
    return
  end
  local id = message.id
  local callback = type(id) == 'number' and self.pending[id] or nil
  if callback then
    self.pending[id] = nil
    if message.error ~= nil and message.error ~= vim.NIL then
      callback(message.error, nil)
    else
      callback(nil, message.result)
    end
  elseif message.error ~= nil and message.error ~= vim.NIL and self.handlers.on_notification then
    -- An error with id null (a framing error): the daemon will close the connection.
    self.handlers.on_notification('$/error', message.error)
  end
end

-- Runs in a libuv callback: parse frames, hand them to the main loop.
function Conn:_on_data(chunk)
  self.buffer = self.buffer .. chunk
  while true do
    local header_end = self.buffer:find('\r\n\r\n', 1, true)
    if not header_end then
      return
    end
    local header = self.buffer:sub(1, header_end - 1)
    local length = tonumber(header:lower():match('content%-length:%s*(%d+)'))
    if not length then
      self.buffer = ''
      vim.schedule(function()
        self:_shutdown('the daemon sent a frame without Content-Length')
      end)
      return
    end
    local body_start = header_end + 4
    if #self.buffer < body_start + length - 1 then
      return
    end
    local body = self.buffer:sub(body_start, body_start + length - 1)
    self.buffer = self.buffer:sub(body_start + length)
    local ok, message = pcall(vim.json.decode, body, { luanil = { object = true } })
    vim.schedule(function()
      if ok then
        self:_dispatch(message)
      else
        self:_shutdown('the daemon sent invalid JSON: ' .. tostring(message))
      end
    end)
  end
end

-- Ends the connection (main loop): every request still pending gets an error.
function Conn:_shutdown(reason)
  if self.closed then
    return
  end
  self.closed = true
  local function close(handle)
    if handle and not handle:is_closing() then
      handle:close()
    end
  end
  close(self.reader)
  close(self.writer)
  close(self.stderr)
  local pending = self.pending
  self.pending = {}
  local ids = vim.tbl_keys(pending)
  table.sort(ids)
  for _, id in ipairs(ids) do
    pending[id]({ code = false, message = reason }, nil)
  end
  if self.handlers.on_close then
    self.handlers.on_close(reason, #ids)
  end
end

function Conn:close(reason)
  if self.process and not self.process:is_closing() then
    -- End of stdin makes the daemon answer what it has and exit 0; SIGTERM makes a running
    -- generation stop early (it answers "cancelled").
    pcall(function()
      self.process:kill('sigterm')
    end)
  end
  self:_shutdown(reason or 'closed')
end

local function tail(text, limit)
  if #text > limit then
    return text:sub(-limit)
  end
  return text
end

-- Starts cmd (a list: binary then arguments) with its stdin and stdout as the connection and its
-- stderr appended to log_path (the daemon's logs never mix with the protocol). Returns the
-- connection, or nil and a message.
function M.spawn(cmd, log_path, handlers)
  local conn = new(handlers)
  local stdin, stdout, stderr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local log_fd = log_path and uv.fs_open(log_path, 'a', 420) or nil
  local args = {}
  for i = 2, #cmd do
    args[#args + 1] = cmd[i]
  end
  local process, pid_or_err
  -- The connection ends once the daemon has exited and its stdout is read to the end (an exit
  -- may be seen before the last answers are read).
  local exit_reason, stdout_done = nil, false
  local function maybe_end()
    if exit_reason and stdout_done then
      vim.schedule(function()
        conn:_shutdown(type(exit_reason) == 'function' and exit_reason() or exit_reason)
      end)
    end
  end
  process, pid_or_err = uv.spawn(cmd[1], { args = args, stdio = { stdin, stdout, stderr } }, function(code, signal)
    if process and not process:is_closing() then
      process:close()
    end
    exit_reason = function()
      local reason = string.format('the daemon exited (status %d%s)', code,
        signal ~= 0 and (', signal ' .. signal) or '')
      local last = conn.stderr_tail:gsub('%s+$', '')
      if code ~= 0 and last ~= '' then
        reason = reason .. '; its log ends with:\n' .. last
      end
      return reason
    end
    maybe_end()
  end)
  if not process then
    for _, pipe in ipairs({ stdin, stdout, stderr }) do
      pipe:close()
    end
    if log_fd then
      uv.fs_close(log_fd)
    end
    return nil, string.format('cannot start %s: %s', cmd[1], tostring(pid_or_err))
  end
  conn.process, conn.pid = process, pid_or_err
  conn.reader, conn.writer, conn.stderr = stdout, stdin, stderr
  stdout:read_start(function(err, chunk)
    if chunk then
      conn:_on_data(chunk)
    elseif not stdout_done then
      stdout_done = true
      if err then
        exit_reason = exit_reason or ('reading from the daemon failed: ' .. tostring(err))
      end
      maybe_end()
    end
  end)
  stderr:read_start(function(_, chunk)
    if chunk then
      conn.stderr_tail = tail(conn.stderr_tail .. chunk, 2000)
      if log_fd then
        uv.fs_write(log_fd, chunk, -1)
      end
    elseif log_fd then
      uv.fs_close(log_fd)
      log_fd = nil
    end
  end)
  conn.ready = true
  return conn
end

-- Who listens on a connected Unix socket (Linux: SO_PEERCRED through LuaJIT's FFI). Returns the
-- uid, or nil where it cannot be asked.
local peer_uid_ffi
local function peer_uid(pipe)
  if jit == nil or jit.os ~= 'Linux' then
    return nil
  end
  if peer_uid_ffi == nil then
    local ok, ffi = pcall(require, 'ffi')
    peer_uid_ffi = false
    if ok then
      pcall(ffi.cdef, [[
        struct reprolm_ucred { int pid; unsigned int uid; unsigned int gid; };
        int getsockopt(int sockfd, int level, int optname, void *optval, unsigned int *optlen);
      ]])
      peer_uid_ffi = ffi
    end
  end
  local ffi = peer_uid_ffi
  if not ffi then
    return nil
  end
  local fd = pipe:fileno()
  if type(fd) ~= 'number' then
    return nil
  end
  local cred = ffi.new('struct reprolm_ucred')
  local len = ffi.new('unsigned int[1]', ffi.sizeof(cred))
  local ok, rc = pcall(ffi.C.getsockopt, fd, 1 --[[SOL_SOCKET]], 17 --[[SO_PEERCRED]], cred, len)
  if not ok or rc ~= 0 then
    return nil
  end
  return tonumber(cred.uid)
end

M.peer_uid = peer_uid

-- Connects to a daemon's Unix socket; on_connect(conn) or on_connect(nil, message, errname) runs
-- on the main loop. errname is libuv's (ENOENT, ECONNREFUSED...) when nothing listens. Like the
-- other clients, refuses a socket (or a listener) that belongs to another user before sending
-- anything.
function M.connect(path, handlers, on_connect)
  local conn = new(handlers)
  local pipe = uv.new_pipe(false)
  pipe:connect(path, function(err)
    vim.schedule(function()
      if err then
        pipe:close()
        on_connect(nil, string.format('cannot connect to %s: %s', path, err), err:match('^(%u+)'))
        return
      end
      local uid = uv.getuid()
      local stat = uv.fs_stat(path)
      local peer = peer_uid(pipe)
      local refusal
      if stat and stat.uid ~= uid then
        refusal = string.format('the socket %s belongs to uid %d, not to you (uid %d); not using it',
          path, stat.uid, uid)
      elseif peer and peer ~= uid then
        refusal = string.format('the process listening on %s runs as uid %d, not as you (uid %d); not using it',
          path, peer, uid)
      end
      if refusal then
        pipe:close()
        on_connect(nil, refusal, 'EACCES')
        return
      end
      conn.reader, conn.writer = pipe, pipe
      pipe:read_start(function(read_err, chunk)
        if chunk then
          conn:_on_data(chunk)
        else
          vim.schedule(function()
            conn:_shutdown(read_err and ('reading from the daemon failed: ' .. tostring(read_err))
              or 'the daemon closed the connection')
          end)
        end
      end)
      conn.ready = true
      for _, frame in ipairs(conn.queue) do
        pipe:write(frame)
      end
      conn.queue = {}
      on_connect(conn)
    end)
  end)
  return conn
end

-- Starts `bin serve --socket path [extra args]` in the background, in its own session, outliving
-- Neovim (as reprolm-call does), logging to log_path. Returns {pid, exited, status} (updated when
-- it exits), or nil and a message.
function M.start_detached(bin, path, log_path, extra_args)
  local log_fd, open_err = uv.fs_open(log_path, 'a', 384)
  if not log_fd then
    return nil, string.format('cannot open %s: %s', log_path, tostring(open_err))
  end
  local child = { exited = false }
  local handle, pid_or_err
  handle, pid_or_err = uv.spawn(bin, {
    args = vim.list_extend({ 'serve', '--socket', path }, extra_args or {}),
    stdio = { nil, log_fd, log_fd },
    detached = true,
  }, function(code)
    child.exited, child.status = true, code
    if handle and not handle:is_closing() then
      handle:close()
    end
  end)
  uv.fs_close(log_fd)
  if not handle then
    return nil, string.format('cannot start %s: %s', bin, tostring(pid_or_err))
  end
  handle:unref()
  child.pid = pid_or_err
  return child
end

return M
