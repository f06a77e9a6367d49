-- wrk script: each request asks for the boot script of one of N nodes, picked at random.
local n = tonumber(os.getenv("BSS_BENCH_NODES") or "10000")

request = function()
  local i = math.random(0, n - 1)
  local mac = string.format("02:00:00:%02x:%02x:%02x", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
  return wrk.format("GET", "/boot/v1/bootscript?mac=" .. mac)
end
