-- wrk script for the history benchmark: GET /api/v2/messages?number=<contact>&limit=100 for a
-- random one of the 100,000 contacts bench/run.sh seeds (+1646 200 0000 + n), each with 100
-- messages among 10,000,000.
local key = os.getenv("KEY")
local secret = os.getenv("SECRET")
wrk.method = "GET"
wrk.headers["sb-api-key-id"] = key
wrk.headers["sb-api-secret-key"] = secret

request = function()
  local n = math.random(0, 99999)
  return wrk.format(nil, "/api/v2/messages?number=%2B1646" .. (2000000 + n) .. "&limit=100")
end
