-- The store on its worst day: 3 GETs of a random product to 1 checkout of a
-- small basket (each wrk thread keeps its own count).
math.randomseed(42)
local n = 0
local checkout_headers = { ["Content-Type"] = "application/json" }
request = function()
  n = n + 1
  if n % 4 == 0 then
    local body = string.format('{"items":[{"id":%d,"quantity":%d}]}',
                               math.random(1, 500), math.random(1, 3))
    return wrk.format("POST", "/checkout", checkout_headers, body)
  end
  return wrk.format("GET", "/products/" .. math.random(1, 500))
end
-- bench/report.lua, found from the repository root (where bench/run.sh runs wrk).
done = require("bench.report").done
