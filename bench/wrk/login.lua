-- The login storm: POST /api/v1/auth/login for the accounts in a file, round and round, counting
-- answers by status (200 signed in, 503 shed, 429 rate limited).
--   wrk -t1 ... -s login.lua URL -- EMAILS_FILE PASSWORD
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests, n, threads = {}, 0, {}
statuses = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for email in io.lines(args[1]) do
    local body = string.format('{"email": "%s", "password": "%s"}', email, args[2])
    requests[#requests + 1] = wrk.format("POST", "/api/v1/auth/login", headers, body)
  end
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    parts[#parts + 1] = string.format('"status_%d": %d', status, count)
  end
  report(summary, latency, table.concat(parts, ", "))
end
