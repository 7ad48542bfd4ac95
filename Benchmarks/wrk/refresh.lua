-- Token refresh with rotation. Each session's refresh token is used exactly once; its successor, read from the
-- response, goes back into this thread's pool. Start with one session per connection (BENCH_TOKENS_FILE, one
-- refresh token per line) and no token is ever presented twice, so reuse detection never fires.
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
local threads = {}
local pool = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("index", #threads)
end

function init(args)
    local all = {}
    for line in io.lines(tokens_file) do table.insert(all, line) end
    local count = tonumber(os.getenv("BENCH_THREADS") or "2")
    for i, token in ipairs(all) do
        if (i - 1) % count == index - 1 then table.insert(pool, token) end
    end
end

-- wrk calls request() once while setting a thread up, before any connection exists; that call must not take a
-- token out of the pool (it would never come back).
local primed = false

function request()
    if not primed then
        primed = true
        return wrk.format("GET", "/health")
    end
    local token = table.remove(pool, 1)
    if token == nil then token = "exhausted" end
    return wrk.format("POST", "/api/v1/identity/refresh", { ["Content-Type"] = "application/json" },
        '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
    local token = body:match('"refresh_token":"([^"]+)"')
    if token then table.insert(pool, token) end
end
