-- wrk script: each request asks for the boot script of one of N nodes, picked at random.
-- BSS_BENCH_UNIQUE=1 adds a random retry= so no two requests are alike (no memoised answer helps).
local n = tonumber(os.getenv("BSS_BENCH_NODES") or "10000")
local unique = os.getenv("BSS_BENCH_UNIQUE") == "1"

request = function()
  local i = math.random(0, n - 1)
  local mac = string.format("02:00:00:%02x:%02x:%02x", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
  local path = "/boot/v1/bootscript?mac=" .. mac
  if unique then
    path = path .. "&retry=" .. math.random(1, 1000000000)
  end
  return wrk.format("GET", path)
end
