-- wrk script for bench/perf.py: each thread (one connection each) sends its own precomputed
-- slice of requests in order, so every request is the next real turn of its conversation,
-- checks every response against the words that turn must say, and can pace itself.
--
-- wrk -t N -c N -d 10s -s bench/turns.lua URL -- PREFIX RATE LOOP N
--   PREFIX.<thread>  requests, each "raw HTTP request\0words the response must hold\0"
--   RATE             requests per second per connection (0: as fast as it answers)
--   LOOP             1: start the slice again when it runs out (the bare app); 0: stop
--   N                the number of threads (to spread their first requests)
-- Writes PREFIX.<thread>.bad with the first wrong response, and prints one JSON line.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } pz_timespec;
int clock_gettime(int clock_id, pz_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("pz_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local created = 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  prefix, rate, loop, threads_count = args[1], tonumber(args[2]), args[3] == "1", tonumber(args[4])
  local file = assert(io.open(prefix .. "." .. id, "rb"))
  local data = file:read("*a")
  file:close()
  requests, expected = {}, {}
  for raw, words in data:gmatch("(.-)%z(.-)%z") do
    requests[#requests + 1] = raw
    expected[#expected + 1] = words
  end
  sent, last, good, bad, exhausted = 0, 0, 0, 0, 0
  -- wrk calls thread 0's request() once before the run, to see whether it pipelines: that
  -- call must not take (and so skip) the first turn of a real conversation
  probe = id == 0
  interval = rate > 0 and 1000 / rate or 0
  next_at = nil
end

function delay()
  if interval == 0 then
    return 0
  end
  local now = now_ms()
  if next_at == nil then -- spread the connections' first requests over one interval
    next_at = now + interval * id / threads_count
  end
  local wait = next_at - now
  next_at = next_at + interval -- a fixed schedule: a late answer does not slow the rate
  return wait > 0 and wait or 0
end

local SPARE = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"

function request()
  if probe then
    probe = false
    return SPARE
  end
  sent = sent + 1
  if sent > #requests then
    if not loop then -- never a replay: a harmless request while the thread stops
      exhausted = 1
      wrk.thread:stop()
      last = 0
      return SPARE
    end
    sent = 1
  end
  last = sent -- one connection per thread, one request in flight: the next answer is this one
  return requests[sent]
end

function response(status, headers, body)
  if last == 0 then
    return
  end
  if status == 200 and body:find(expected[last], 1, true) then
    good = good + 1
    return
  end
  bad = bad + 1
  if bad == 1 then
    local out = io.open(prefix .. "." .. id .. ".bad", "wb")
    out:write(status, "\n", body)
    out:close()
  end
end

function done(summary, latency, _)
  local good_all, bad_all, exhausted_all = 0, 0, 0
  for _, thread in ipairs(threads) do
    good_all = good_all + thread:get("good")
    bad_all = bad_all + thread:get("bad")
    exhausted_all = exhausted_all + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "good": %d, "bad": %d, "exhausted": %d, "socket_errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, good_all, bad_all, exhausted_all,
    errors.connect + errors.read + errors.write, errors.status, errors.timeout))
end
