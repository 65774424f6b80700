-- Fresh, valid ServiceDelivered events of partner "nrc" at "gol-tappeh", for the wrk
-- scripts that post (post_events.lua, mixed.lua): one template, so the benches post the
-- same event. Loaded with dofile; returns the module.

local M = {}

local EVENT = '{"id":"%s","type":"ServiceDelivered","data":{"delivery_id":"%s",'
  .. '"partner_id":"nrc","site_id":"gol-tappeh","sector":"education",'
  .. '"activity":"Literacy classes","period_start":"2025-03-01","period_end":"2025-03-31",'
  .. '"beneficiaries":{"women":12,"men":9,"girls":20,"boys":18},"free_of_charge":true}}'

local function uuid(run, tid, kind, n)
  return string.format("%s-%04x-4%03x-8000-%012x", run, tid, kind, n)
end

-- the n-th event of wrk thread `tid` in run `run` (8 hex digits): ids unique across both
function M.event(run, tid, n)
  return string.format(EVENT, uuid(run, tid, 1, n), uuid(run, tid, 2, n))
end

return M
