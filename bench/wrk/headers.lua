-- headers: a GET with 20 header lines, a browser's plus proxy fields: these 19 and
-- the Host that wrk adds. The server copies X-Request-Id into its answer.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

local h = wrk.headers
h["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
h["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
h["Accept-Language"] = "en-US,en;q=0.9,de;q=0.8"
h["Accept-Encoding"] = "gzip, deflate, br"
h["Cache-Control"] = "no-cache"
h["Pragma"] = "no-cache"
h["Referer"] = "http://127.0.0.1/index.html"
h["Cookie"] = "session=5b1e7d0c9a2f4e68; theme=dark; lang=en"
h["X-Request-Id"] = "bench-fedcba9876543210"
h["X-Forwarded-For"] = "127.0.0.1"
h["X-Forwarded-Proto"] = "http"
h["Sec-Fetch-Dest"] = "document"
h["Sec-Fetch-Mode"] = "navigate"
h["Sec-Fetch-Site"] = "same-origin"
h["Sec-Fetch-User"] = "?1"
h["Upgrade-Insecure-Requests"] = "1"
h["DNT"] = "1"
h["X-Custom-A"] = "alpha"
h["X-Custom-B"] = "beta"
