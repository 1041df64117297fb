-- The soak's wrk script: one of bench/wrk's workloads (named by $SOAK_WORKLOAD, a path), with
-- each response counted by status class, and the thread stopped once it has its share of the
-- requests (`wrk ... URL -- N`; wrk still sleeps out its -d, so the thread says "SOAK-DONE" on
-- stderr and soak.mjs interrupts wrk). At the end one line "SOAK {...}" that soak.mjs reads:
-- responses, 2xx, other statuses, and wrk's socket errors (connect, read, write, timeout).
dofile(os.getenv("SOAK_WORKLOAD"))

local workload_init = init
local limit, counted = math.huge, 0
good, bad = 0, 0 -- globals: done() reads them from each thread with thread:get()

function init(args)
  if args[1] then limit = tonumber(args[1]) end
  if workload_init then workload_init(args) end
end

function response(status, headers, body)
  counted = counted + 1
  if status >= 200 and status < 300 then good = good + 1 else bad = bad + 1 end
  if counted == limit then
    io.stderr:write("SOAK-DONE\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("good")
    other = other + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format('SOAK {"responses":%d,"ok":%d,"not_2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"duration_us":%d}\n',
    summary.requests, ok, other, e.connect, e.read, e.write, e.timeout, summary.duration))
end
