-- Shoppers, not a closed loop (issue 25, requirement 7; a first cut, not
-- yet in bench/run.sh): each connection is a user who thinks between
-- clicks, an exponential draw of mean $THINK_MS (default 3000) returned by
-- delay(), so the connections together offer a Poisson-like stream, and a
-- 503 is not turned into another request at once. The clicks: 3 GETs of a
-- product to 1 checkout, as mix.lua.
--
--   THINK_MS=3000 WRK_REPORT=out wrk -c 28000 -t 2 -d 30s \
--     -s bench/shoppers.lua http://127.0.0.1:8080
--
-- Offered load = connections / (think time + answer time); pick the
-- connections for 0.5x..4x of the capacity measured with mix.lua.
-- Besides report.lua's totals, $WRK_REPORT gains per-class counts: wrk's
-- response() does not say which request an answer is for, so a checkout's
-- answer is told by its body ("payment").
local think_ms = tonumber(os.getenv("THINK_MS") or "3000")
local threads = {}
local checkout_headers = { ["Content-Type"] = "application/json" }

setup = function(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

init = function()
  math.randomseed(os.time() + id * 7919)
  n = 0
  ok_2xx, shed_503, other, checkout_ok = 0, 0, 0, 0
end

request = function()
  n = n + 1
  if n % 4 == 0 then
    local body = string.format('{"items":[{"id":%d,"quantity":%d}]}',
                               math.random(1, 500), math.random(1, 3))
    return wrk.format("POST", "/checkout", checkout_headers, body)
  end
  return wrk.format("GET", "/products/" .. math.random(1, 500))
end

delay = function()
  -- Exponential: -mean * ln(U), U in (0, 1].
  return math.floor(-think_ms * math.log(1 - math.random()))
end

response = function(status, headers, body)
  if status >= 200 and status < 300 then
    ok_2xx = ok_2xx + 1
    if body and body:find('"payment"', 1, true) then
      checkout_ok = checkout_ok + 1
    end
  elseif status == 503 then
    shed_503 = shed_503 + 1
  else
    other = other + 1
  end
end

local report = require("bench.report")
done = function(summary, latency, requests)
  report.done(summary, latency, requests)
  local path = os.getenv("WRK_REPORT")
  if not path then return end
  local sent, ok, shed, oth, co = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    sent = sent + t:get("n")
    ok = ok + t:get("ok_2xx")
    shed = shed + t:get("shed_503")
    oth = oth + t:get("other")
    co = co + t:get("checkout_ok")
  end
  local f = assert(io.open(path, "a"))
  -- Checkouts sent: every 4th request of each thread.
  f:write(string.format("shoppers sent %d ok %d shed %d other %d " ..
                        "checkout_sent %d checkout_ok %d\n",
                        sent, ok, shed, oth, math.floor(sent / 4), co))
  f:close()
end
