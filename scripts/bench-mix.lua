-- wrk script for the "mix" run of scripts/bench: people browsing the list, filtering it, opening
-- details pages, and acting on instances, all at once.
--   wrk ... -s scripts/bench-mix.lua http://127.0.0.1:18080 -- <csrf token> <generated computes>
-- Out of 100 requests: 55 list pages (pages 1-10), 15 filtered and sorted lists, 20 details
-- pages of generated instances, 10 stop/start actions on the demo workspace's instances (the
-- generated ones are read-only in the emulator). An action on an instance that is busy is refused
-- with 409, which wrk counts under "Non-2xx or 3xx responses".

local csrf, computes
local demo = { "ada-dev-box", "alan-notebooks", "katherine-eda", "ada-spark-prep", "grace-cpu-box",
  "edsger-reader-box" }
local filters = { "state=Running&size=Standard_DS3_v2&q=bench0&sort=created&dir=desc",
  "state=Stopped&sort=owner", "q=bench01&sort=size&dir=desc", "size=Standard_F4s_v2&sort=name" }
local counter = 0
local threads = {}
refused, failed = 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  csrf = args[1]
  computes = tonumber(args[2])
  -- Each wrk thread gets its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  counter = counter + 1
  local pick = math.random(100)
  if pick <= 55 then
    return wrk.format("GET", "/computes?owner=all&page=" .. math.random(10))
  elseif pick <= 70 then
    return wrk.format("GET", "/computes?owner=all&" .. filters[math.random(#filters)])
  elseif pick <= 90 then
    return wrk.format("GET", string.format("/computes/bench%05d", math.random(computes) - 1))
  else
    local name = demo[math.random(#demo)]
    local action = (counter % 2 == 0) and "stop" or "start"
    -- Headers given here replace wrk's own (the session cookie among them): copy those first.
    local headers = { ["X-CSRF-Token"] = csrf, ["HX-Request"] = "true", ["Content-Length"] = "0" }
    for key, value in pairs(wrk.headers) do headers[key] = value end
    return wrk.format("POST", "/computes/" .. name .. "/" .. action, headers)
  end
end

function response(status)
  if status == 409 then
    refused = refused + 1
  elseif status >= 400 then
    failed = failed + 1
  end
end

-- One line scripts/bench reads: actions refused as busy, and any other error (there should be none).
function done()
  local r, f = 0, 0
  for _, thread in ipairs(threads) do
    r = r + thread:get("refused")
    f = f + thread:get("failed")
  end
  io.write(string.format("mix-statuses: refused=%d failed=%d\n", r, f))
end
