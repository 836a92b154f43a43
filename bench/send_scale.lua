-- wrk script for the scale benchmark: POST /api/send-message to the 1,000,000 contacts that
-- bench/run.sh seeds, each from the one of the 1,000 seeded lines it is bound to (contact n is
-- +1646 200 0000 + n, bound to line +1312 555 3000 + n mod 1000).
-- CONTACTS=8000 (the default): the foundation benchmark's 8,000 distinct recipients, spread over
-- the whole table and all 1,000 lines. CONTACTS=all: a different contact for every message.
local key = os.getenv("KEY")
local secret = os.getenv("SECRET")
local spread = os.getenv("CONTACTS") ~= "all"
local counter = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["sb-api-key-id"] = key
wrk.headers["sb-api-secret-key"] = secret

request = function()
  counter = counter + 1
  local n
  if spread then
    -- k < 8000 → n = k * 124987 mod 10^6: distinct, and n mod 1000 takes every line.
    n = (((tid or 0) * 4000 + counter) % 8000 * 124987) % 1000000
  else
    -- 7919 is prime: the walk visits every contact before repeating.
    n = ((tid or 0) * 500000 + counter * 7919) % 1000000
  end
  local body = '{"number":"+1646' .. (2000000 + n) .. '","from_number":"+1312555' ..
    (3000 + n % 1000) .. '","content":"scale message ' .. counter .. '"}'
  return wrk.format(nil, "/api/send-message", nil, body)
end
