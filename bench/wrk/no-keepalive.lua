-- no-keepalive: the plaintext GET with "Connection: close": wrk opens a new
-- TCP connection for every request.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

wrk.headers["Connection"] = "close"
