-- A filtered page of 50 leads through the gateway: qualified leads of one owner, newest first.
-- BENCH_TOKEN is an access token with crm.leads:read; BENCH_OWNER the owner id to filter on.
wrk.method = "GET"
wrk.path = "/api/v1/crm/leads?status=qualified&owner_id=" .. os.getenv("BENCH_OWNER") .. "&limit=50"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
