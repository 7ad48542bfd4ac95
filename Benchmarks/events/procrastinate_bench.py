"""The same work as bench-events, done by procrastinate (a PostgreSQL job queue from PyPI) on the same database:
producers defer one job per event (each its own transaction), one worker with concurrency 4 runs them, and each
job writes one row in its own transaction. Prints JSON lines shaped like bench-events' (engine "procrastinate").

    python3 procrastinate_bench.py --database-url postgres://... [--events 20000] [--rate 1000] [--seconds 10]

Needs `pip install procrastinate "psycopg[binary]"`.
"""

import argparse
import asyncio
import json
import time

import procrastinate
import psycopg_pool

parser = argparse.ArgumentParser()
parser.add_argument("--database-url", required=True)
parser.add_argument("--events", type=int, default=20_000)
parser.add_argument("--rate", type=int, default=1_000)
parser.add_argument("--seconds", type=int, default=10)
parser.add_argument("--producers", type=int, default=8)
parser.add_argument("--workers", type=int, default=4)
options = parser.parse_args()

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=options.database_url, max_size=24))
effects_pool = psycopg_pool.AsyncConnectionPool(options.database_url, min_size=1, max_size=options.workers + 2, open=False)
committed_at: dict[int, float] = {}
applied_at: dict[int, float] = {}
applied_count = 0


@app.task(queue="bench", name="work")
async def work(index: int) -> None:
    global applied_count
    async with effects_pool.connection() as connection:
        await connection.execute("INSERT INTO procrastinate_bench_effects (n) VALUES (%s)", (index,))
    applied_at[index] = time.time()
    applied_count += 1


async def defer(index: int) -> None:
    await work.defer_async(index=index)
    committed_at[index] = time.time()


def latencies(keys) -> list[float]:
    return sorted(max(0.0, applied_at[k] - committed_at[k]) * 1000 for k in keys if k in applied_at and k in committed_at)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, int(-(-len(values) * p // 1)) - 1))
    return values[index]


async def wait_applied(target: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while applied_count < target and time.monotonic() < deadline:
        await asyncio.sleep(0.001)


async def main() -> None:
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await effects_pool.open()
        async with effects_pool.connection() as connection:
            await connection.execute("CREATE TABLE procrastinate_bench_effects (n BIGINT NOT NULL)")
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=["bench"], concurrency=options.workers, wait=True, install_signal_handlers=False,
                delete_jobs="successful",
            )
        )
        await asyncio.sleep(0.5)

        # Latency at a fixed rate.
        paced = options.rate * options.seconds
        start = time.monotonic()
        pending: set[asyncio.Task] = set()
        for index in range(paced):
            due = start + index / options.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(pending) >= 64:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.create_task(defer(index)))
        if pending:
            await asyncio.wait(pending)
        await wait_applied(paced)
        values = latencies(range(paced))
        print(json.dumps({
            "measurement": "latency", "engine": "procrastinate", "rate": options.rate, "events": paced,
            "workers": options.workers, "latency_p50_ms": round(percentile(values, 0.5), 1),
            "latency_p99_ms": round(percentile(values, 0.99), 1), "latency_max_ms": round(percentile(values, 1.0), 1),
        }), flush=True)

        # Throughput: every producer as fast as it can.
        first = paced
        total = options.events
        share = total // options.producers

        async def produce(producer: int) -> None:
            count = total - share * producer if producer == options.producers - 1 else share
            for offset in range(count):
                await defer(first + producer * share + offset)

        started = time.monotonic()
        await asyncio.gather(*(produce(p) for p in range(options.producers)))
        await wait_applied(first + total)
        seconds = time.monotonic() - started
        values = latencies(range(first, first + total))
        print(json.dumps({
            "measurement": "throughput", "engine": "procrastinate", "events": total, "producers": options.producers,
            "workers": options.workers, "seconds": round(seconds, 2), "events_per_second": round(total / seconds),
            "latency_p50_ms": round(percentile(values, 0.5), 1), "latency_p99_ms": round(percentile(values, 0.99), 1),
        }), flush=True)

        # Delivery alone: a backlog deferred beforehand (one statement per 500 jobs), then run.
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass
        base = first + total
        for chunk in range(0, total, 500):
            await work.batch_defer_async(*({"index": base + i} for i in range(chunk, min(chunk + 500, total))))
        started = time.monotonic()
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=["bench"], concurrency=options.workers, wait=True, install_signal_handlers=False,
                delete_jobs="successful",
            )
        )
        await wait_applied(base + total)
        seconds = time.monotonic() - started
        print(json.dumps({
            "measurement": "delivery", "engine": "procrastinate", "events": total, "workers": options.workers,
            "seconds": round(seconds, 2), "events_per_second": round(total / seconds),
        }), flush=True)
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass
        await effects_pool.close()


asyncio.run(main())
