-- wrk script: each request asks for the next path of a list (one URL path per line), so a
-- run touches every project page instead of one hot page. Usage:
--   wrk ... -s rotate.lua http://127.0.0.1:PORT -- paths.txt
-- Each thread starts at a different offset of the list. Headers given with -H apply.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local paths = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("rotate.lua: empty path list " .. tostring(args[1]))
  end
  i = (id * 7919) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
