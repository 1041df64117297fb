-- Loaded by every workload script: at the end of a run, prints one line
-- "BENCH {...}" that bench/run.mjs reads: responses, duration, errors (connect,
-- read, write, timeout, status >= 400) and the p50/p99 latency in microseconds.
-- A latency of -1 means wrk has none: under pipelining wrk 4.1 records one
-- sample per batch and its percentiles are not meaningful.

function done(summary, latency, requests)
  local function pct(p)
    local v = #latency > 0 and latency:percentile(p) or -1
    if v ~= v or v <= 0 or v == math.huge then return -1 end
    return v
  end
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    pct(50), pct(99)))
end
