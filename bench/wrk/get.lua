-- plaintext and json: a plain keep-alive GET of the URL's path.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
