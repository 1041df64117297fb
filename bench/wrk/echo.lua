-- echo: POST of a 4 KiB application/octet-stream body, which the server sends back.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

wrk.method = "POST"
wrk.body = string.rep("starlight-bench-", 256) -- 16 bytes x 256 = 4096
wrk.headers["Content-Type"] = "application/octet-stream"
