"""A small asyncio HTTP/1.1 load generator: keep-alive connections, one request at a time each.

Run by the benchmark under bench/.venv/base (uvloop); prints one JSON line.

  loadgen.py hot PORT ENDPOINT CONNECTIONS SECONDS
      fixed concurrency for SECONDS: requests, errors, rps, p50_ms, p99_ms
      (the fallback when wrk is missing: its own CPU use lowers the figures)
  loadgen.py drain PORT CONNECTIONS MAX_SECONDS
      load as from behind a load balancer: prints "LOADING" once answers
      flow, probes GET /readyz every PROBE_S on a new connection, and stops
      sending once a probe answers 503 or fails (a generous balancer: one
      failed probe takes the instance out). A connection whose request
      failed waits for the next probe before it tries again. Reports the
      requests sent and the failed ones by kind (refused, reset, 5xx).

ENDPOINT is "healthz" (GET /healthz) or "items" (the authenticated POST /items).
"""

import asyncio
import json
import sys
import time
from collections import Counter

import uvloop

REQUESTS = {
    "healthz": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "items": (
        b"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\n"
        b'Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{"name": "x"}'
    ),
}
PROBE = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
PROBE_S = 0.1


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, data: bytes) -> int:
        """Send `data`, read the response; return its status. Raises OSError and friends."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


FAILURES = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


async def hot(port: int, endpoint: str, connections: int, seconds: float) -> dict[str, float]:
    data = REQUESTS[endpoint]
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        connection = Connection(port)
        while (started := time.perf_counter()) < stop_at:
            try:
                status = await connection.request(data)
            except FAILURES:
                errors += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - started)
            errors += status >= 400
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def drain(port: int, connections: int, max_seconds: float) -> dict[str, object]:
    data = REQUESTS["items"]
    failed: Counter[str] = Counter()
    sent = ok = 0
    up = True
    probed = asyncio.Event()  # set, and cleared, after each probe
    began = time.perf_counter()
    down_at = None

    async def probe() -> None:
        nonlocal up, down_at
        while up and time.perf_counter() - began < max_seconds:
            await asyncio.sleep(PROBE_S)
            try:
                status = await Connection(port).request(PROBE)
            except FAILURES:
                status = 0
            if status != 200:
                up, down_at = False, time.perf_counter() - began
            probed.set()
            probed.clear()
        up = False
        probed.set()

    async def worker() -> None:
        nonlocal sent, ok
        connection = Connection(port)
        while up:
            sent += 1
            try:
                status = await connection.request(data)
            except ConnectionRefusedError:
                failed["refused"] += 1
            except FAILURES:
                failed["reset"] += 1
            else:
                if status < 400:
                    ok += 1
                    continue
                failed["5xx" if status >= 500 else "4xx"] += 1  # 4xx: the benchmark's fault
            connection.close()
            await probed.wait()
        connection.close()

    async def announce() -> None:
        while not ok:
            await asyncio.sleep(0.01)
        print("LOADING", flush=True)

    announcer = asyncio.create_task(announce())
    await asyncio.gather(probe(), *(worker() for _ in range(connections)))
    announcer.cancel()
    total = sum(failed.values())
    return {"sent": sent, "ok": ok, "failed": total, "kinds": dict(failed), "down_after_s": down_at}


def main() -> None:
    mode, port, *rest = sys.argv[1:]
    if mode == "hot":
        endpoint, connections, seconds = rest
        result: object = uvloop.run(hot(int(port), endpoint, int(connections), float(seconds)))
    else:
        connections, max_seconds = rest
        result = uvloop.run(drain(int(port), int(connections), float(max_seconds)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
