-- bench/replay.lua: replays pre-generated requests (bench/bench.py), each exactly once.
--
--   wrk -t2 -c64 -d8s -s bench/replay.lua http://127.0.0.1:PORT -- FILE THREADS ACTIVE_S GO
--
-- GO is when to start sending (Unix time in seconds, fractions allowed), so that
-- every thread has read its file by then and all start together; wrk's duration
-- must cover the wait, ACTIVE_S of sending and a drain time.
-- Thread k sends the lines of FILE.k in order, one complete request per line (a
-- tab stands for each CRLF; see bench/bench.py), and counts the status of every
-- response. wrk's -H headers do not apply: the requests are sent as written.
-- After ACTIVE_S seconds, or when its lines run out, a thread sends nothing more
-- (its connections wait in delay() until wrk stops), so requests still in flight
-- are answered and counted before the end.
-- done() prints one line that bench/run reads:
--   replay available=N sent=N answered=N extra=N exhausted=0|1 active_s=S start_skew_s=S statuses=303:N,409:N
-- `active_s` is from the first request sent to the last response received; rates
-- are computed over it, not over wrk's full duration. `start_skew_s` is how much
-- later the last thread started sending than the first (each reads its file first).
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } replay_timespec;
int clock_gettime(int clk_id, replay_timespec *tp);
]])
local ts = ffi.new("replay_timespec")
local function now()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: comparable with GO and across threads
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

-- setup() and done() share one environment (wrk's main thread).
dofile("bench/statuses.lua")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Everything below runs in each wrk thread's own environment.
local PARK_MS = 24 * 3600 * 1000
local reqs, granted, go, cutoff, stopped = {}, 0, nil, nil, false
available, sent, answered, extra, exhausted = 0, 0, 0, 0, 0
first_at, last_at = 0, 0
statuses = {}

function init(args)
  local file = args[1]
  for line in io.lines(file .. "." .. id) do
    reqs[#reqs + 1] = line:gsub("\t", "\r\n")
  end
  available = #reqs
  go = tonumber(args[4])
  cutoff = go + tonumber(args[3])
end

-- wrk calls delay() before every request on a connection, and sends the request
-- (asking request() for it) once the delay is over. So the decision is taken
-- here: grant the next line (sent at GO at the earliest), or, once the lines or
-- the time are used up, delay the connection past the end of the run.
function delay()
  if stopped then
    return PARK_MS
  end
  local t = now()
  if granted >= #reqs or t >= cutoff then
    stopped = true
    if granted >= #reqs then
      exhausted = 1
    end
    return PARK_MS
  end
  granted = granted + 1
  if t < go then
    return math.ceil((go - t) * 1000)
  end
  return 0
end

function request()
  if granted == 0 then
    -- wrk calls request() once after init() to check the script; nothing is sent.
    return reqs[1] or wrk.format()
  end
  if sent >= granted then
    -- Only after a socket error made wrk re-send without asking delay(): never
    -- repeat a line (a repeated vote or event would distort the counts).
    extra = extra + 1
    return wrk.format("GET", "/healthz")
  end
  if first_at == 0 then
    first_at = now()
  end
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  last_at = now()
end

function done(summary, latency, requests)
  local t = { available = 0, sent = 0, answered = 0, extra = 0, exhausted = 0 }
  local first, last, latest_first = nil, 0, 0
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do
      t[key] = t[key] + thread:get(key)
    end
    local f, l = thread:get("first_at"), thread:get("last_at")
    if f > 0 and (first == nil or f < first) then
      first = f
    end
    latest_first = math.max(latest_first, f)
    if l > last then
      last = l
    end
  end
  io.write(string.format(
    "replay available=%d sent=%d answered=%d extra=%d exhausted=%d active_s=%.3f start_skew_s=%.3f statuses=%s\n",
    t.available, t.sent, t.answered, t.extra, math.min(t.exhausted, 1),
    (first and last > first) and (last - first) or 0, first and (latest_first - first) or 0,
    status_counts(threads)))
end
