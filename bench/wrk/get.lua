-- GET scenarios (S1 S2 S3 S4 S6): cycles through the paths in a file, one per line, sending an
-- optional bearer token.   wrk ... -s get.lua URL -- PATHS_FILE [TOKEN]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local requests, n = {}, 0

function init(args)
  local headers = {}
  if args[2] and args[2] ~= "" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  for path in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end
