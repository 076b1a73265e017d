-- wrk script for benchmarks/worklist_load.py: each connection, signed in by its session cookie,
-- opens the given kinds of page in turn (worklist and patient pages, or /api/health alone), with
-- no think time, and keeps a latency histogram per kind of page.
--
-- Run with one connection per thread (wrk -t N -c N): wrk gives response() no connection, but a
-- thread's Lua state then serves exactly one, so request() and response() pair up. Latency is
-- taken from request() (just before the request is written) to response() (when it has been read),
-- with CLOCK_MONOTONIC through LuaJIT's ffi. Buckets are 0.1 ms wide.
--
--   wrk -t50 -c50 -d60s --timeout 30s -s worklist_load.lua URL -- COOKIE PRACTICE PAGES PATIENTS_FILE KINDS
--
-- KINDS: the kinds each connection opens in turn, comma-separated (worklist,patient or health).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

local KINDS = { "worklist", "patient", "health" }
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  cookie, practice, pages = args[1], args[2], tonumber(args[3])
  patients = {}
  for line in io.lines(args[4]) do
    if line ~= "" then table.insert(patients, line) end
  end
  opens = {}
  for name in string.gmatch(args[5], "[^,]+") do table.insert(opens, name) end
  math.randomseed(thread_no * 7919 + os.time())
  hist = { worklist = {}, patient = {}, health = {} }
  failed = { worklist = 0, patient = 0, health = 0 }
  step, kind, started = 0, nil, nil
  -- wrk 4.1's thread:get() crashes on nested tables, so done() reads each thread's counts as a
  -- string: "kind failed bucket:count ...", one line per kind, made on demand in the thread's state
  setmetatable(_G, { __index = function(_, key)
    if key ~= "counts" then return nil end
    local lines = {}
    for _, name in ipairs(KINDS) do
      local parts = { name, failed[name] }
      for b, n in pairs(hist[name]) do parts[#parts + 1] = b .. ":" .. n end
      lines[#lines + 1] = table.concat(parts, " ")
    end
    return table.concat(lines, "\n")
  end })
end

function request()
  step = step % #opens + 1
  kind = opens[step]
  local path
  if kind == "worklist" then
    path = "/worklist?page=" .. math.random(1, pages)
  elseif kind == "patient" then
    path = "/patients/" .. practice .. "/" .. patients[math.random(1, #patients)]
  else
    path = "/api/health"
  end
  started = now_us()
  return wrk.format("GET", path, { Cookie = cookie })
end

function response(status, headers, body)
  local bucket = math.floor((now_us() - started) / 100)
  local h = hist[kind]
  h[bucket] = (h[bucket] or 0) + 1
  if status ~= 200 then failed[kind] = failed[kind] + 1 end
end

local function percentile(buckets, total, p)
  local keys = {}
  for b in pairs(buckets) do table.insert(keys, b) end
  table.sort(keys)
  local rank, seen = math.ceil(total * p), 0
  for _, b in ipairs(keys) do
    seen = seen + buckets[b]
    if seen >= rank then return (b + 0.5) / 10 end
  end
  return 0 / 0
end

-- One line per kind for worklist_load.py: "kind <name> <n> <failed> <p50 ms> <p95 ms> <p99 ms>".
function done(summary, latency, requests)
  local buckets, totals, bad = {}, {}, {}
  for _, name in ipairs(KINDS) do buckets[name], totals[name], bad[name] = {}, 0, 0 end
  for _, t in ipairs(threads) do
    for line in string.gmatch(t:get("counts"), "[^\n]+") do
      local name, failures, rest = string.match(line, "^(%S+) (%d+)(.*)$")
      bad[name] = bad[name] + tonumber(failures)
      for b, n in string.gmatch(rest, "(%d+):(%d+)") do
        b, n = tonumber(b), tonumber(n)
        buckets[name][b] = (buckets[name][b] or 0) + n
        totals[name] = totals[name] + n
      end
    end
  end
  for _, name in ipairs(KINDS) do
    local b, n = buckets[name], totals[name]
    io.write(string.format("kind %s %d %d %.1f %.1f %.1f\n", name, n, bad[name], percentile(b, n, 0.50),
      percentile(b, n, 0.95), percentile(b, n, 0.99)))
  end
  local e = summary.errors
  io.write(string.format("errors connect=%d read=%d write=%d status=%d timeout=%d\n", e.connect, e.read, e.write,
    e.status, e.timeout))
end
