-- bench/rotate.lua: GET one path as many different signed-in members, in turn.
--
--   wrk -t2 -c64 -d30s --latency -s bench/rotate.lua http://127.0.0.1:PORT -- PATH COOKIE_NAME FILE
--
-- FILE holds one session cookie value per line. Each thread goes through all of
-- them in turn, wrapping around (thread k starts k/2 of the way in), so that
-- consecutive requests come from different members and the server cannot answer
-- them from one member's cached state. Requests are formatted before the load.
-- done() prints one line that bench/run reads:
--   rotate members=N statuses=200:N
dofile("bench/statuses.lua")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Everything below runs in each wrk thread's own environment.
local reqs, next_req = {}, 1
members, statuses = 0, {}

function init(args)
  local path, name, file = args[1], args[2], args[3]
  local cookies = {}
  for line in io.lines(file) do
    if line ~= "" then
      cookies[#cookies + 1] = line
    end
  end
  local n = #cookies
  local shift = math.floor(n * id / 2)
  local formatted = {}
  for i = 1, n do
    local cookie = cookies[((i - 1 + shift) % n) + 1]
    formatted[i] = wrk.format("GET", path, { ["Cookie"] = name .. "=" .. cookie, ["Accept-Encoding"] = "gzip" })
  end
  reqs, members = formatted, n
end

function request()
  local r = reqs[next_req]
  next_req = next_req % #reqs + 1
  return r
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local members = 0
  for _, thread in ipairs(threads) do
    members = math.max(members, thread:get("members"))
  end
  io.write(string.format("rotate members=%d statuses=%s\n", members, status_counts(threads)))
end
