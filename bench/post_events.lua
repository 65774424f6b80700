-- wrk script: POST /v1/events with fresh, valid ServiceDelivered events.
-- Environment: HAMKARI_TOKEN (a partner token for "nrc"), HAMKARI_BATCH (events per
-- request; 1 posts a single object, more post an array), HAMKARI_RUN (8 hex digits
-- that make this run's ids unique). Prints one RESULT line for bench/http.py.

local token = os.getenv("HAMKARI_TOKEN")
local batch = tonumber(os.getenv("HAMKARI_BATCH") or "1")
local run = os.getenv("HAMKARI_RUN") or "00000000"
local threads = 0

local EVENT = '{"id":"%s","type":"ServiceDelivered","data":{"delivery_id":"%s",'
  .. '"partner_id":"nrc","site_id":"gol-tappeh","sector":"education",'
  .. '"activity":"Literacy classes","period_start":"2025-03-01","period_end":"2025-03-31",'
  .. '"beneficiaries":{"women":12,"men":9,"girls":20,"boys":18},"free_of_charge":true}}'

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  counter = 0
end

local function uuid(kind, n)
  return string.format("%s-%04x-4%03x-8000-%012x", run, tid, kind, n)
end

function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = string.format(EVENT, uuid(1, counter), uuid(2, counter))
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
