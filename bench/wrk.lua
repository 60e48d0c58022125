-- wrk script of the benchmark: `wrk ... -s wrk.lua URL -- healthz|items`.
-- "items" makes the request the authenticated POST /items; done() prints one
-- line "WRKJSON {...}" with the counts and the latency percentiles (us).

function init(args)
  if args[1] == "items" then
    wrk.method = "POST"
    wrk.path = "/items"
    wrk.body = '{"name": "x"}'
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer bench"
  else
    wrk.path = "/healthz"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
