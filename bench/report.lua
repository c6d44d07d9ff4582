-- wrk's done hook for bench/run.sh: writes the run's totals and a fine grid
-- of latency percentiles to $WRK_REPORT, so two wrk processes (the 28,000-
-- connection runs need two) can be merged into one distribution.
-- (Debian's wrk does not let a script read the raw latency histogram.)
--   requests N / duration_us N / errors connect read write timeout / status N
--   p PERCENT MICROSECONDS   (one line per grid point)
local report = {}

local function grid()
  local points = {}
  for p = 1, 90 do points[#points + 1] = p end
  for p = 90.1, 99.0, 0.1 do points[#points + 1] = p end
  for p = 99.01, 99.99, 0.01 do points[#points + 1] = p end
  points[#points + 1] = 99.999
  points[#points + 1] = 100
  return points
end

function report.done(summary, latency, requests)
  local path = os.getenv("WRK_REPORT")
  if not path then return end
  local f = assert(io.open(path, "w"))
  local e = summary.errors
  f:write(string.format("requests %d\nduration_us %d\n", summary.requests,
                        summary.duration))
  f:write(string.format("errors %d %d %d %d\nstatus %d\n", e.connect, e.read,
                        e.write, e.timeout, e.status))
  for _, p in ipairs(grid()) do
    local us = p == 100 and latency.max or latency:percentile(p)
    f:write(string.format("p %.3f %d\n", p, us))
  end
  f:close()
end

return report
