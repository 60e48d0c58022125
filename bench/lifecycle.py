"""Lifecycle figures: one measurement of one subject per call, into `results`.

ready_ms   spawn -> GET /healthz answers 200
rss_kb     resident memory once ready
term_ms    SIGTERM -> exited, idle (term_exit: the exit code)
drain_ms   SIGTERM with 50 GET /items/slow (0.2 s) in flight -> exited
           (drain_ok: how many of the 50 got 200)
crash_ms   the injected task raises -> exited (crash_exit)
force_ms   slow cleanup: SIGINT, a second SIGINT 300 ms later -> exited (force_exit)
"""

import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from procs import AUTH, Run, Subject, get

Results = dict[str, list[float]]
IN_FLIGHT = 50


def measure_idle(subject: Subject, results: Results) -> None:
    run = Run(subject)
    try:
        results["ready_ms"].append(run.wait_ready())
        results["rss_kb"].append(run.rss_kb())
        elapsed, code = run.exit_ms(run.signal(signal.SIGTERM))
        results["term_ms"].append(elapsed)
        results["term_exit"].append(code)
    finally:
        run.kill()


def measure_drain(subject: Subject, results: Results) -> None:
    run = Run(subject)
    try:
        run.wait_ready()
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            replies = [
                pool.submit(get, run.port, "/items/slow", headers=AUTH) for _ in range(IN_FLIGHT)
            ]
            run.wait_slow(IN_FLIGHT)  # all 50 in the handler: they take 0.2 s each
            elapsed, _ = run.exit_ms(run.signal(signal.SIGTERM))
            ok = 0
            for reply in replies:
                with suppress(OSError):
                    ok += reply.result() == 200
        results["drain_ms"].append(elapsed)
        results["drain_ok"].append(ok)
    finally:
        run.kill()


def measure_crash(subject: Subject, results: Results) -> None:
    run = Run(subject, "crash")
    try:
        exited, code = run.wait()
        run._reader.join(1)
        assert run.crashed_at is not None, f"{subject.name}: no CRASH line"
        results["crash_ms"].append((exited - run.crashed_at) * 1000)
        results["crash_exit"].append(code)
    finally:
        run.kill()


def measure_force(subject: Subject, results: Results) -> None:
    run = Run(subject, "cleanup")
    try:
        run.wait_ready()
        sent = run.signal(signal.SIGINT)
        time.sleep(0.3)
        run.signal(signal.SIGINT)
        elapsed, code = run.exit_ms(sent)
        results["force_ms"].append(elapsed)
        results["force_exit"].append(code)
    finally:
        run.kill()


MEASURES: dict[str, Callable[[Subject, Results], None]] = {
    "term": measure_idle,
    "drain": measure_drain,
    "crash": measure_crash,
    "force": measure_force,
}
