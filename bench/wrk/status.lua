-- wrk script for bench/office.py: kiosks' status reports (POST /v1/status) or /healthz.
--
--   wrk -t T -c C -d D --latency -s bench/wrk/status.lua URL -- MODE TOKEN[,TOKEN...]
--
-- MODE   health | quiet | counters | state
--        quiet: every report of a thread says the same (the common case: answered from
--        the register's memory, a heartbeat write every few seconds);
--        counters: every report has a new check-off count (memory too, until the heartbeat);
--        state: every report changes the printer's paper (each one written, with history).
-- TOKEN  kiosk credentials; wrk thread i uses token i (one kiosk per thread).
-- done() prints one line "VKRESULT {json}" with the latency percentiles (µs).

local threads = {}
local counter = 1

function setup(thread)
   thread:set("tid", counter - 1)
   table.insert(threads, thread)
   counter = counter + 1
end

local mode, headers
local n = 0
ok, bad = 0, 0

function init(args)
   mode = args[1]
   local tokens = {}
   for t in string.gmatch(args[2] or "", "[^,]+") do table.insert(tokens, t) end
   headers = {["Content-Type"] = "application/json",
              ["Authorization"] = "Bearer " .. tokens[(tid % #tokens) + 1]}
end

local function body(count, paper)
   return '{"sent_at":"2027-09-13T07:02:00+00:00","mode":"normal","mains":true,"router_power":true,' ..
      '"simula_power":true,"printer_state":"ready","printer_paper":"' .. paper .. '","scanner_connected":true,' ..
      '"counts":{"checkoffs":' .. count .. ',"emergency_votes":0,"manual_valgkort":0,"pending_uploads":0},' ..
      '"loggbok_head":"' .. string.rep("ab", 32) .. '","loggbok_entries":' .. (count + 10) .. ',' ..
      '"clock_offset_s":0.002,"image_version":"2027.1","report_interval_s":5}'
end

function request()
   if mode == "health" then
      return wrk.format("GET", "/healthz", headers, nil)
   end
   n = n + 1
   local paper = (mode == "state" and n % 2 == 1) and "low" or "ok"
   return wrk.format("POST", "/v1/status", headers, body(mode == "counters" and n or 42, paper))
end

function response(status, hdrs, b)
   if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
   local t_ok, t_bad = 0, 0
   for _, thread in ipairs(threads) do
      t_ok = t_ok + (thread:get("ok") or 0)
      t_bad = t_bad + (thread:get("bad") or 0)
   end
   io.write(string.format(
      'VKRESULT {"requests":%d,"duration_us":%d,"latency_us":{"p50":%d,"p99":%d},"ok":%d,"bad":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), t_ok, t_bad))
end
