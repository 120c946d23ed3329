-- wrk script for bench/register_load.py: the register's check-off, lookup and health calls.
--
--   wrk -t T -c C -d D --latency -s bench/wrk/checkoff.lua URL -- \
--       MODE VOTERS_FILE FIRST COUNT NONCE TOKEN[,TOKEN...]
--
-- MODE        checkoff | lookup | health
-- VOTERS_FILE manntallsnummer, one per line, fixed width (12 digits + "\n"), written by
--             register_load.py
-- FIRST/COUNT the phase's slice of that file; wrk thread i (0-based) of T takes the
--             i-th of T equal, disjoint sub-slices, so no voter is sent twice in a
--             check-off phase (and the Python side gives every phase its own slice)
-- NONCE       a 32-bit number unique to the phase: request ids are
--             NONCE-thread-4000-a000-counter, unique across threads and phases
-- TOKEN       kiosk credentials; thread i uses token i (one kiosk per wrk thread)
--
-- check-off: a fresh request id and a fresh voter per request; a thread that runs out of
-- voters stops sending fresh ones and reports "exhausted" (the Python side then fails
-- the run rather than report figures for repeated voters). lookup: cycles through its
-- slice (read-only). done() prints one line "VKRESULT {json}" with wrk's own latency
-- percentiles (µs) and the per-thread answer counts.

local LINE = 13

local threads = {}
local counter = 1

function setup(thread)
   thread:set("tid", counter - 1)
   table.insert(threads, thread)
   counter = counter + 1
end

local mode, data, slice, pos, nonce, path, method, headers
ok, bad, other, sent, exhausted = 0, 0, 0, 0, 0

function init(args)
   mode = args[1]
   local file, first, count = args[2], tonumber(args[3]), tonumber(args[4])
   nonce = tonumber(args[5])
   local tokens = {}
   for t in string.gmatch(args[6] or "", "[^,]+") do table.insert(tokens, t) end
   local nthreads = tonumber(args[7])
   local per = math.floor(count / nthreads)
   local my_first = first + tid * per
   slice = per
   pos = 0
   headers = {["Content-Type"] = "application/json"}
   if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(tid % #tokens) + 1]
   end
   if mode == "health" then
      path, method = "/healthz", "GET"
      data = ""
      return
   end
   path = (mode == "checkoff") and "/v1/checkoffs" or "/v1/voters/lookup"
   method = "POST"
   local f = assert(io.open(file, "rb"))
   f:seek("set", my_first * LINE)
   data = f:read(per * LINE)
   f:close()
   assert(data and #data == per * LINE, "voters file too short for this slice")
end

local function number_at(i)
   local off = i * LINE
   return string.sub(data, off + 1, off + 12)
end

function request()
   if mode == "health" then
      return wrk.format(method, path, headers, nil)
   end
   local i = pos
   pos = pos + 1
   if mode == "checkoff" then
      if i >= slice then
         -- Out of fresh voters: never repeat one; ask for the health page instead and
         -- report the run as exhausted.
         exhausted = 1
         return wrk.format("GET", "/healthz", headers, nil)
      end
      sent = sent + 1
      local rid = string.format("%08x-%04x-4000-a000-%012x", nonce, tid, i)
      return wrk.format(method, path, headers,
         '{"request_id":"' .. rid .. '","manntallsnummer":"' .. number_at(i) .. '"}')
   end
   sent = sent + 1
   return wrk.format(method, path, headers, '{"manntallsnummer":"' .. number_at(i % slice) .. '"}')
end

function response(status, hdrs, body)
   if status ~= 200 then
      bad = bad + 1
   elseif mode == "checkoff" then
      if string.find(body, '"verdict":"checked_off"', 1, true) then ok = ok + 1 else other = other + 1 end
   elseif mode == "lookup" then
      if string.find(body, '"verdict":"ready"', 1, true) or
         string.find(body, '"verdict":"already_voted"', 1, true) then ok = ok + 1 else other = other + 1 end
   else
      ok = ok + 1
   end
end

function done(summary, latency, requests)
   local t_ok, t_bad, t_other, t_sent, t_exh = 0, 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      t_ok = t_ok + (thread:get("ok") or 0)
      t_bad = t_bad + (thread:get("bad") or 0)
      t_other = t_other + (thread:get("other") or 0)
      t_sent = t_sent + (thread:get("sent") or 0)
      t_exh = t_exh + (thread:get("exhausted") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'VKRESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
      '"ok":%d,"bad":%d,"other":%d,"sent":%d,"exhausted_threads":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max,
      t_ok, t_bad, t_other, t_sent, t_exh))
end
