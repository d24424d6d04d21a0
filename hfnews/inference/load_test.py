"""A bounded load test of a running `scripts/serve.py`: many concurrent clients on loopback, latency and throughput.

Each of `clients` coroutines sends `requests_per_client` requests of `texts_per_request` headlines, one after the
other, through one shared httpx connection pool; the whole run is cut off after `timeout_s`.
"""

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class LoadResult:
    """Requests sent and answered with 200 and the right number of rows, failures (status or count), wall seconds,
    and request latencies in milliseconds."""

    requests: int
    failures: list[str]
    seconds: float
    latencies_ms: list[float]
    texts_per_request: int

    def percentile(self, q: float) -> float:
        """The `q`-th percentile (0-100) of the latencies, in ms (`statistics.quantiles`, inclusive method)."""
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[round(q) - 1]

    @property
    def headlines_per_second(self) -> float:
        return len(self.latencies_ms) * self.texts_per_request / self.seconds


async def _client(client, url: str, batches: list[list[str]], result: LoadResult) -> None:
    for texts in batches:
        start = time.perf_counter()
        response = await client.post(url, json={"texts": texts})
        result.requests += 1
        if response.status_code != 200 or len(response.json().get("predictions", [])) != len(texts):
            result.failures.append(f"{response.status_code}: {response.text[:200]}")
            continue
        result.latencies_ms.append((time.perf_counter() - start) * 1000)


async def _load(url: str, batches: list[list[list[str]]], result: LoadResult, timeout_s: float) -> None:
    import httpx

    limits = httpx.Limits(max_connections=len(batches))
    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:
        await asyncio.wait_for(
            asyncio.gather(*(_client(client, url, each, result) for each in batches)), timeout=timeout_s
        )


def run_load(
    base_url: str,
    headlines: Sequence[str],
    clients: int = 32,
    requests_per_client: int = 20,
    texts_per_request: int = 8,
    timeout_s: float = 120.0,
) -> LoadResult:
    """Load `base_url`/predict as the module doc says, cycling through `headlines`; raises `TimeoutError` when the
    run takes longer than `timeout_s` seconds."""
    result = LoadResult(0, [], 0.0, [], texts_per_request)
    position = 0
    batches = []
    for _ in range(clients):
        mine = []
        for _ in range(requests_per_client):
            mine.append([headlines[(position + i) % len(headlines)] for i in range(texts_per_request)])
            position += texts_per_request
        batches.append(mine)
    start = time.perf_counter()
    asyncio.run(_load(base_url.rstrip("/") + "/predict", batches, result, timeout_s))
    result.seconds = time.perf_counter() - start
    return result
