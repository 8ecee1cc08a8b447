-- bench/statuses.lua: shared by the wrk scripts (loaded with dofile from the
-- repository root, where bench/run runs wrk).

-- "200:N,303:M": every thread's `statuses` table added up, sorted by status.
function status_counts(threads)
  local all = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      all[status] = (all[status] or 0) + n
    end
  end
  local codes = {}
  for status, n in pairs(all) do
    codes[#codes + 1] = status .. ":" .. n
  end
  table.sort(codes)
  return table.concat(codes, ",")
end
