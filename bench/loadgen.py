"""A small, bounded HTTP/1.1 load generator (asyncio, standard library only).

Each simulated client keeps one keep-alive connection and sends its next request as
soon as the previous answer is read (closed loop), so ``clients`` is the number of
requests in flight. A run stops at its deadline or after ``max_requests``, whichever
comes first, and every request has its own timeout: it cannot run away, and it only
ever connects to the loopback address it is given.

A hand-written client rather than a library: it has to cost the two shared cores as
little as possible, and it only ever speaks to our own gunicorn.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.harness import percentile


@dataclass
class LoadResult:
    clients: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def throughput(self) -> float:
        """Successful responses per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def share(self, status: int) -> float:
        return self.statuses[status] / self.requests if self.requests else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies_ms, 95) if self.latencies_ms else 0.0

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms, default=0.0)


def build_request(host: str, port: int, path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Token {token}\r\n"
        "Accept: application/json\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, whether the server will close the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, closing = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            closing = True
    if length:
        await reader.readexactly(length)
    return status, closing


class _Budget:
    def __init__(self, max_requests: int, deadline: float) -> None:
        self.left = max_requests
        self.deadline = deadline

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.left -= 1
        return True


async def _client(
    host: str,
    port: int,
    requests: Sequence[bytes],
    offset: int,
    budget: _Budget,
    timeout: float,
    result: LoadResult,
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    sent = offset
    try:
        while budget.take():
            request = requests[sent % len(requests)]
            sent += 1
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(host, port), timeout
                    )
                assert reader is not None
                writer.write(request)
                status, closing = await asyncio.wait_for(_read_response(reader), timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                status, closing = 0, True  # 0: no HTTP answer (refused, reset, timed out)
            result.statuses[status] += 1
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if closing and writer is not None:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def run_load(
    *,
    host: str,
    port: int,
    requests: Sequence[bytes],
    clients: int,
    seconds: float,
    max_requests: int = 200_000,
    timeout: float = 30.0,
) -> LoadResult:
    """Closed-loop load: ``clients`` concurrent keep-alive clients for ``seconds``."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"Load runs only target loopback addresses, not {host}.")
    result = LoadResult(clients=clients, seconds=seconds)

    async def main() -> None:
        started = time.perf_counter()
        budget = _Budget(max_requests, started + seconds)
        await asyncio.gather(
            *(
                _client(host, port, requests, offset, budget, timeout, result)
                for offset in range(clients)
            )
        )
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result
