-- wrk script: POST /api/send-message with the bench account's keys. Spreads messages over the lines
-- named in LINES (comma-separated). With LIMIT set, each wrk thread stops after LIMIT/threads
-- answers, so a run sends a known number of messages.
local key = os.getenv("KEY")
local secret = os.getenv("SECRET")
local lines = {}
for l in string.gmatch(os.getenv("LINES") or "+14155550100", "[^,]+") do table.insert(lines, l) end
local callback = os.getenv("CALLBACK")
-- MEDIA: a media_url for every message (the line checks its size with a HEAD before hand-off).
local media = os.getenv("MEDIA")
-- CALLBACKS: a comma-separated list; message i gets callback i mod n.
local callbacks = {}
for c in string.gmatch(os.getenv("CALLBACKS") or "", "[^,]+") do table.insert(callbacks, c) end
local limit = tonumber(os.getenv("LIMIT") or "0")
local threads_n = tonumber(os.getenv("THREADS") or "2")
local per_thread = limit > 0 and math.ceil(limit / threads_n) or 0
local counter = 0
local answered = 0
local non200 = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["sb-api-key-id"] = key
wrk.headers["sb-api-secret-key"] = secret

request = function()
  counter = counter + 1
  -- A contact always hears from the same line (route mapping): pick the line by the contact.
  local contact = 1000 + counter % 8000
  local line = lines[(contact % #lines) + 1]
  local body = '{"number":"+1212555' .. string.format("%04d", contact) ..
    '","from_number":"' .. line .. '","content":"bench message ' .. counter .. '"'
  if media then body = body .. ',"media_url":"' .. media .. '"' end
  if #callbacks > 0 then
    body = body .. ',"status_callback":"' .. callbacks[(counter % #callbacks) + 1] .. '"'
  elseif callback then
    body = body .. ',"status_callback":"' .. callback .. '"'
  end
  body = body .. '}'
  return wrk.format(nil, "/api/send-message", nil, body)
end

response = function(status, headers, body)
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if per_thread > 0 and answered >= per_thread then wrk.thread:stop() end
end
