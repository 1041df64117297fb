-- pipelined: the plaintext GET, 16 requests sent back to back in one write
-- (wrk counts each answer; it waits for all 16 before the next write).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

local batch

function init(args)
  batch = string.rep(wrk.format(), 16) -- in init: wrk adds the Host field just before
end

function request()
  return batch
end
