-- wrk script: POST /v1/events with fresh, valid ServiceDelivered events.
-- Environment: HAMKARI_TOKEN (a partner token for "nrc"), HAMKARI_BATCH (events per
-- request; 1 posts a single object, more post an array), HAMKARI_RUN (8 hex digits
-- that make this run's ids unique). Prints one RESULT line for bench/http.py.

local token = os.getenv("HAMKARI_TOKEN")
local batch = tonumber(os.getenv("HAMKARI_BATCH") or "1")
local run = os.getenv("HAMKARI_RUN") or "00000000"
local threads = 0

-- the event template, beside this script
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local deliveries = dofile(here .. "deliveries.lua")

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  counter = 0
end

function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = deliveries.event(run, tid, counter)
  end
  local body
  if batch == 1 then body = parts[1] else body = "[" .. table.concat(parts, ",") .. "]" end
  return wrk.format("POST", "/v1/events", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
