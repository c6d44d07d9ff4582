-- bench/leak.sh's steady load: every request is GET /?ms=$LEAK_MS, which the
-- leaky apps answer after that many milliseconds, so each connection sends
-- at most 1000 / LEAK_MS requests a second whatever the runner.
local path = "/?ms=" .. (os.getenv("LEAK_MS") or "100")
request = function()
  return wrk.format("GET", path)
end
-- bench/report.lua, found from the repository root (where the bench runs wrk).
done = require("bench.report").done
