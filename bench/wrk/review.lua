-- S5: POST /api/v1/books/{uid}/reviews, never the same (reviewer, book) pair twice in one run,
-- so every request is a real insert that passes the unique constraint.
--   wrk -t1 ... -s review.lua URL -- TOKENS_FILE BOOK_UIDS_FILE
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local tokens, books, n = {}, {}, 0

function init(args)
  for token in io.lines(args[1]) do
    tokens[#tokens + 1] = { ["Authorization"] = "Bearer " .. token,
                            ["Content-Type"] = "application/json" }
  end
  for uid in io.lines(args[2]) do
    books[#books + 1] = uid
  end
end

function request()
  local reviewer = tokens[(n % #tokens) + 1]
  local book = books[(math.floor(n / #tokens) % #books) + 1]
  local body = string.format('{"rating": %d, "review_text": "Benchmark review number %d."}',
                             (n % 5) + 1, n)
  n = n + 1
  return wrk.format("POST", "/api/v1/books/" .. book .. "/reviews", reviewer, body)
end
