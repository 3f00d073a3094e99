-- wrk script for bench/run.sh: one file, the request kind picked by environment variables.
--   BENCH_MODE   berth-create | etcd-put | etcd-range | get (default: get)
--   BENCH_TOKEN  bearer token for the berth API (added to every request when set)
--   BENCH_NS     namespace for berth-create (default "bench")
--   BENCH_PREFIX object-name / key prefix, unique per run (default "p")
--   BENCH_QUOTA  when set: create exactly this many distinct names (indices wrap afterwards,
--                so a repeat is a 409 on berth and an overwrite on etcd) and stop each thread
--                once it has seen its share of responses
--   BENCH_RATE   when set: target requests/s over all connections (a fixed per-connection
--                delay between requests; the achieved rate is what wrk reports)
--   BENCH_CONNS  connections (needed with BENCH_RATE)
--   BENCH_THREADS wrk threads (needed with BENCH_QUOTA)
--   BENCH_DONE_DIR with BENCH_QUOTA: each finished thread creates done-<id> here
-- done() prints one line "BENCH_JSON {...}" that run.sh parses.

local mode = os.getenv("BENCH_MODE") or "get"
local token = os.getenv("BENCH_TOKEN")
local ns = os.getenv("BENCH_NS") or "bench"
local prefix = os.getenv("BENCH_PREFIX") or "p"
local quota = tonumber(os.getenv("BENCH_QUOTA") or "")
local rate = tonumber(os.getenv("BENCH_RATE") or "")
local conns = tonumber(os.getenv("BENCH_CONNS") or "1")

local threads = {}
local nextId = 0

function setup(thread)
  thread:set("id", nextId)
  nextId = nextId + 1
  table.insert(threads, thread)
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local bit = require("bit")
local band, rshift, lshift, bor = bit.band, bit.rshift, bit.lshift, bit.bor
local b64tab = {}
for i = 0, 63 do b64tab[i] = b64chars:sub(i + 1, i + 1) end

local function b64(s)
  local out, n = {}, #s
  for i = 1, n - 2, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = bor(lshift(a, 16), lshift(b, 8), c)
    out[#out + 1] = b64tab[rshift(v, 18)] .. b64tab[band(rshift(v, 12), 63)] ..
        b64tab[band(rshift(v, 6), 63)] .. b64tab[band(v, 63)]
  end
  local rest = n % 3
  if rest == 1 then
    local v = lshift(s:byte(n), 16)
    out[#out + 1] = b64tab[rshift(v, 18)] .. b64tab[band(rshift(v, 12), 63)] .. "=="
  elseif rest == 2 then
    local a, b = s:byte(n - 1, n)
    local v = bor(lshift(a, 16), lshift(b, 8))
    out[#out + 1] = b64tab[rshift(v, 18)] .. b64tab[band(rshift(v, 12), 63)] ..
        b64tab[band(rshift(v, 6), 63)] .. "="
  end
  return table.concat(out)
end

-- A small pod, like the ones counted by the memory target.
local function podJson(name)
  return '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"' .. name ..
      '","labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}'
end

local headers = {}
local counter = 0
local responses = 0
local stopped = false
local share = nil
local nthreads = 1

function init(args)
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "application/json"
  -- wrk 4.x calls request() once on thread 0 to check the request (script_verify_request) and
  -- discards it: start thread 0 one step back so no index is lost.
  if id == 0 then counter = -1 end
  if quota then
    -- this thread creates indices id, id+T, id+2T, ... below quota
    share = math.floor((quota - id + nthreads - 1) / nthreads)
    if share < 0 then share = 0 end
  end
end

local function nextName()
  local idx = id + nthreads * counter
  counter = counter + 1
  if quota then
    idx = idx % quota
    return prefix .. "-" .. idx
  end
  return prefix .. "-" .. id .. "-" .. (counter - 1)
end

local etcdRangeBody = nil

function request()
  if mode == "berth-create" then
    return wrk.format("POST", "/api/v1/namespaces/" .. ns .. "/pods", headers, podJson(nextName()))
  elseif mode == "etcd-put" then
    local name = nextName()
    local body = '{"key":"' .. b64("/registry/pods/" .. ns .. "/" .. name) ..
        '","value":"' .. b64(podJson(name)) .. '"}'
    return wrk.format("POST", "/v3/kv/put", headers, body)
  elseif mode == "etcd-range" then
    if not etcdRangeBody then
      local p = "/registry/pods/" .. ns .. "/"
      local endKey = p:sub(1, -2) .. string.char(p:byte(-1) + 1)
      etcdRangeBody = '{"key":"' .. b64(p) .. '","range_end":"' .. b64(endKey) .. '"}'
    end
    return wrk.format("POST", "/v3/kv/range", headers, etcdRangeBody)
  end
  return wrk.format("GET", nil, headers, nil)
end

if rate then
  -- wrk calls delay() before each request on a connection: conns/rate seconds between
  -- requests on each connection gives `rate` overall (minus the response time itself).
  local interval = conns * 1000 / rate
  function delay()
    return interval
  end
end

if quota then
  function response(status, hdrs, body)
    responses = responses + 1
    if responses >= share and not stopped then
      stopped = true
      -- wrk keeps sleeping for -d even when every thread stopped: leave a marker so run.sh
      -- can end it early with SIGINT (wrk still prints its summary).
      local dir = os.getenv("BENCH_DONE_DIR")
      if dir then
        local f = io.open(dir .. "/done-" .. id, "w")
        if f then f:close() end
      end
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  print(string.format('BENCH_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,' ..
      '"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d,' ..
      '"lat_mean_ms":%.3f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,' ..
      '"max_ms":%.3f,"bytes":%d}',
      summary.requests, secs, summary.requests / secs, e.status, e.connect, e.read, e.write,
      e.timeout, latency.mean / 1000, latency:percentile(50) / 1000,
      latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000, summary.bytes))
end
