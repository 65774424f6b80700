-- wrk script: GET one path (HAMKARI_PATH) with a bearer token (HAMKARI_TOKEN); prints
-- the same RESULT line as post_events.lua, for bench/workers.py.

local token = os.getenv("HAMKARI_TOKEN")
local path = os.getenv("HAMKARI_PATH") or "/v1/reports/who-what-where"

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
