-- A realistic applicant mix for wrk, one connection per thread (-t N -c N), each thread working
-- on its own drafts so that every request is a success (the run fails on any non-2xx):
--   reads      GET /applications/{id} and GET /applications (list)     ~55 %
--   autosaves  PATCH /applications/{id} with If-Match = the last ETag  ~40 %
--   submits    POST /applications/{id}/submit with an Idempotency-Key  ~5 % (a fresh draft each)
-- Drafts, cookies and CSRF tokens come from infra/load/run.sh through LOAD_FILE.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local function lines(path)
  local out = {}
  for line in io.lines(path) do table.insert(out, line) end
  return out
end

function init(args)
  -- LOAD_FILE line N: "<cookie header>\t<csrf>\t<autosave draft id>\t<submit draft ids, comma separated>"
  local all = lines(os.getenv("LOAD_FILE"))
  local line = all[index]
  local cookie, csrf, draft, pool = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
  headers = { ["Cookie"] = cookie, ["X-CSRF-Token"] = csrf, ["Content-Type"] = "application/json" }
  autosave_id = draft
  submits = {}
  for id in pool:gmatch("[^,]+") do table.insert(submits, id) end
  etag = '"1"'
  step = 0
  sent = nil
  non2xx = 0
  submitted = 0
end

function request()
  step = step + 1
  local phase = step % 20
  if phase == 0 and #submits > 0 then
    local id = table.remove(submits)
    sent = "submit"
    local h = { ["Cookie"] = headers["Cookie"], ["X-CSRF-Token"] = headers["X-CSRF-Token"],
                ["Idempotency-Key"] = "load-" .. index .. "-" .. step }
    return wrk.format("POST", "/applications/" .. id .. "/submit", h, "")
  elseif phase % 5 == 1 or phase % 5 == 3 then
    sent = "autosave"
    local h = { ["Cookie"] = headers["Cookie"], ["X-CSRF-Token"] = headers["X-CSRF-Token"],
                ["Content-Type"] = "application/json", ["If-Match"] = etag }
    local body = '{"current_state":{"challenges":"自動保存 ' .. index .. '-' .. step .. '"}}'
    return wrk.format("PATCH", "/applications/" .. autosave_id, h, body)
  elseif phase == 10 then
    sent = "list"
    return wrk.format("GET", "/applications?limit=20", { ["Cookie"] = headers["Cookie"] })
  else
    sent = "read"
    return wrk.format("GET", "/applications/" .. autosave_id, { ["Cookie"] = headers["Cookie"] })
  end
end

function response(status, hdrs, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    io.stderr:write(sent .. " " .. status .. " " .. string.sub(body, 1, 200) .. "\n")
  elseif sent == "submit" then
    submitted = submitted + 1
  end
  if sent == "autosave" or sent == "read" then
    local e = hdrs["ETag"] or hdrs["etag"]
    if e then etag = e end
  end
end

function done(summary, latency, requests)
  local p = function(q) return latency:percentile(q) / 1000 end
  io.write(string.format("requests %d, errors: connect %d read %d write %d timeout %d status %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("throughput %.1f req/s\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    p(50), p(90), p(99), latency.max / 1000))
  -- Each submission makes the effects function render the application as a PDF.
  local submits = 0
  for _, thread in ipairs(threads) do submits = submits + (thread:get("submitted") or 0) end
  io.write(string.format("submissions %d\n", submits))
end
