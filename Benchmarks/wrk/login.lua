-- Password sign-ins: every request is a full login (scrypt verify, session, refresh token, audit record).
-- BENCH_TENANT, BENCH_EMAIL and BENCH_PASSWORD name an existing account.
wrk.method = "POST"
wrk.path = "/api/v1/identity/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"tenant":"%s","email":"%s","password":"%s"}',
    os.getenv("BENCH_TENANT"), os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
