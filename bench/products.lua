-- GET /products/{id} over the whole catalogue, so no single answer is hot.
math.randomseed(42)
request = function()
  return wrk.format("GET", "/products/" .. math.random(1, 500))
end
-- bench/report.lua, found from the repository root (where bench/run.sh runs wrk).
done = require("bench.report").done
