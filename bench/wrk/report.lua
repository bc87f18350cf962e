-- Shared by every scenario script: one machine-readable line for bench/run.py.
-- Latencies are in microseconds; `non2xx` counts responses with status >= 400.
function report(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "socket_errors": %d, "non2xx": %d, "extra": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status,
    extra or ""))
end

function done(summary, latency, requests)
  report(summary, latency)
end
