-- Lead creation through the gateway: every request a new lead with an address no other request uses.
-- BENCH_TOKEN is an access token with crm.leads:write.
local token = os.getenv("BENCH_TOKEN")
-- Addresses differ between runs too (a warm-up run before the measured one), by the run's start time.
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local threads = 0

function setup(thread)
    thread:set("thread", threads)
    threads = threads + 1
end

local sent = 0
request = function()
    sent = sent + 1
    local body = string.format(
        '{"first_name":"Wrk","last_name":"Lead %d","email":"wrk-%s-%d-%d@bench.example","company":"Bench Co","source":"import","tags":["wrk"]}',
        sent, run, thread, sent)
    return wrk.format("POST", "/api/v1/crm/leads",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
