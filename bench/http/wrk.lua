-- bench/run's one wrk script. Every run ends with one machine-readable line:
--   BENCH requests=N duration_us=D p50_us=.. p99_us=.. non2xx=N socket_errors=N [tokens_used=N tokens_reused=N]
-- Modes, after wrk's `--`:
--   plain                    the request wrk builds from the command line (-H ...)
--   unique FILE THREADS [SKIP]  a different "Authorization: Bearer" token from FILE (one per
--                            line) on every request; thread k of THREADS takes lines SKIP+k+1,
--                            SKIP+k+1+THREADS, ... so no token is sent twice unless the file runs
--                            out (then counted); SKIP (default 0) leaves lines to other runs
--   paced DELAY_MS           each connection waits DELAY_MS before each request: with C
--                            connections the rate is about C / (DELAY_MS + latency)
--   wrk -t1 -c50 -d5s --latency -s bench/http/wrk.lua URL -- unique tokens.txt 1

local threads = {}

-- Main state: remember each thread to collect its counters in done().
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- Thread state. `request`/`delay` are defined only in the modes that need them: wrk sends a
-- prebuilt request (no Lua per request) when they are absent.
function init(args)
  -- wrk passes the URL as args[0] and the words after `--` as args[1..].
  local mode = args[1] or "plain"
  if mode == "unique" then
    local tokens = {}
    for line in io.lines(args[2]) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
    assert(#tokens > 0, "no tokens in " .. args[2])
    local step = tonumber(args[3] or "1")
    local next_index = tonumber(args[4] or "0") + id + 1
    used, reused = 0, 0
    request = function()
      local i = next_index
      next_index = next_index + step
      if i > #tokens then
        reused = reused + 1
        i = (i - 1) % #tokens + 1
      end
      used = used + 1
      return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[i] })
    end
  elseif mode == "paced" then
    local delay_ms = tonumber(args[2])
    delay = function() return delay_ms end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout)
  local used, reused, counted = 0, 0, false
  for _, thread in ipairs(threads) do
    local u = thread:get("used")
    if u then
      counted = true
      used = used + u
      reused = reused + thread:get("reused")
    end
  end
  if counted then
    line = line .. string.format(" tokens_used=%d tokens_reused=%d", used, reused)
  end
  io.write(line .. "\n")
end
