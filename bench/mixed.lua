-- wrk script for bench/mixed.py: a paced client, each connection waiting HAMKARI_PAUSE_MS
-- between an answer and its next request (wrk times a request from when it is sent, so
-- the pause is not in the latency).
-- HAMKARI_MODE=post: fresh ServiceDelivered events of partner "nrc", one a request
--   (HAMKARI_RUN, 8 hex digits, makes this run's ids unique).
-- HAMKARI_MODE=read: GETs of the paths in HAMKARI_PATHS ("|" between them), in turn.
-- HAMKARI_TOKEN: the bearer token. Prints one RESULT line: requests, microseconds,
-- non-2xx answers, socket errors, then p50, p95, p99 and the maximum in microseconds.

local token = os.getenv("HAMKARI_TOKEN")
local mode = os.getenv("HAMKARI_MODE") or "read"
local pause = tonumber(os.getenv("HAMKARI_PAUSE_MS") or "0")
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
  wrk.headers["Authorization"] = "Bearer " .. token
  if mode == "post" then
    wrk.headers["Content-Type"] = "application/json"
  end
  paths = {}
  for path in string.gmatch(os.getenv("HAMKARI_PATHS") or "/health", "[^|]+") do
    paths[#paths + 1] = path
  end
  counter = 0
end

function delay()
  return pause
end

function request()
  counter = counter + 1
  if mode == "post" then
    local body = deliveries.event(run, tid, counter)
    return wrk.format("POST", "/v1/events", nil, body)
  end
  return wrk.format("GET", paths[(counter - 1) % #paths + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
