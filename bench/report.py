"""The benchmark's tables, ratios and target checks (from the summaries run.py made)."""

from typing import Any

from procs import BY_NAME

Summaries = dict[str, dict[str, dict[str, float]]]  # subject -> metric -> median, min, ...
RENDERS = ("render-http", "render-fastapi", "render-aiohttp")
TERM_MARGIN_MS = 15
THROUGHPUT_SHARE = 0.95
LIFECYCLE = [
    ("ready_ms", "ready_ms"),
    ("rss_kb", "rss_kb"),
    ("term_ms", "term_ms"),
    ("term_exit", "exit"),
    ("drain_ms", "drain_ms"),
    ("drain_ok", "ok/50"),
    ("crash_ms", "crash_ms"),
    ("crash_exit", "exit"),
    ("force_ms", "force_ms"),
    ("force_exit", "exit"),
]
HOT = [
    (f"{endpoint}_{key}", f"{endpoint} {key}")
    for endpoint in ("healthz", "items")
    for key in ("rps", "p50_ms", "p99_ms")
]


def median(subjects: Summaries, name: str, metric: str) -> float:
    return subjects[name][metric]["median"]


def ratios(subjects: Summaries) -> dict[str, dict[str, Any]]:
    """Each render against the plain runner serving the same app (where there is one)."""
    found: dict[str, dict[str, Any]] = {}
    for name in RENDERS:
        plain = BY_NAME[name].plain
        if not plain:
            continue
        found[name] = {"plain": plain}
        for metric in ("ready_ms", "term_ms", "healthz_rps", "items_rps", "rss_kb"):
            if metric in subjects[name] and metric in subjects[plain]:
                found[name][metric] = median(subjects, name, metric) / median(
                    subjects, plain, metric
                )
    return found


def targets(subjects: Summaries) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured and whether it was met."""
    checks: list[dict[str, Any]] = []
    floor = median(subjects, "floor-clean", "term_ms")

    def check(target: str, measured: str, met: bool | None) -> None:
        checks.append({"target": target, "measured": measured, "met": met})

    for name in RENDERS:
        term = median(subjects, name, "term_ms")
        exits = subjects[name]["term_exit"]
        check(
            f"{name}: idle term_ms <= floor-clean + {TERM_MARGIN_MS} ms, exit 0",
            f"{term:.0f} ms vs {floor:.0f} + {TERM_MARGIN_MS} (exit {exits['min']:.0f}..{exits['max']:.0f})",
            term <= floor + TERM_MARGIN_MS and exits["min"] == exits["max"] == 0
            if name in RENDERS
            else None,
        )
    for name in RENDERS:
        plain = BY_NAME[name].plain
        if not plain:
            continue
        ready, plain_ready = median(subjects, name, "ready_ms"), median(subjects, plain, "ready_ms")
        check(
            f"{name}: ready_ms <= {plain}",
            f"{ready:.0f} vs {plain_ready:.0f} ms",
            ready <= plain_ready,
        )
        for endpoint in ("healthz", "items"):
            metric = f"{endpoint}_rps"
            if metric not in subjects[name] or metric not in subjects[plain]:
                continue
            share = median(subjects, name, metric) / median(subjects, plain, metric)
            check(
                f"{name}: {endpoint} requests/s >= {THROUGHPUT_SHARE}x {plain}",
                f"{share:.2f}x",
                share >= THROUGHPUT_SHARE,
            )
    for name in (subject for subject in subjects if BY_NAME[subject].under_load):
        if "load_failed" not in subjects[name]:
            continue
        failed, sent = subjects[name]["load_failed"], subjects[name]["load_sent"]
        measured = f"{failed['sum']:.0f} of {sent['sum']:.0f} failed"
        what = "0 failed" if name in RENDERS else "failed (beside the renders)"
        check(
            f"{name}: {what} in a drain under load",
            measured,
            failed["sum"] == 0 if name in RENDERS else None,
        )
    return checks


def cell(summary: dict[str, float] | None, digits: int = 0) -> str:
    if summary is None:
        return "n/a"
    if summary["min"] == summary["max"]:
        return f"{summary['median']:.{digits}f}"
    return (
        f"{summary['median']:.{digits}f} [{summary['min']:.{digits}f}-{summary['max']:.{digits}f}]"
    )


def table(
    subjects: Summaries, columns: list[tuple[str, str]], names: list[str], digits: int = 0
) -> None:
    width = max(len(cell(subjects[n].get(m), digits)) for n in names for m, _ in columns) + 2
    width = max(width, *(len(title) + 2 for _, title in columns))
    print(f"{'median [min-max]':<17}" + "".join(f"{title:>{width}}" for _, title in columns))
    for name in names:
        cells = [cell(subjects[name].get(metric), digits) for metric, _ in columns]
        print(f"{name:<17}" + "".join(f"{c:>{width}}" for c in cells))


def print_all(results: dict[str, Any]) -> None:
    subjects: Summaries = results["subjects"]
    names = list(subjects)
    print(f"\nlifecycle ({results['options']['runs']} runs)")
    table(subjects, LIFECYCLE[:6], names)
    table(subjects, LIFECYCLE[6:], names)
    hot = [name for name in names if "healthz_rps" in subjects[name]]
    print(
        f"\nhot path ({results['load_generator']}, {results['connections']} connections,"
        f" {results['options']['load_seconds']:g} s x {results['options']['load_rounds']} rounds)"
    )
    table(subjects, HOT[:3], hot, 1)
    table(subjects, HOT[3:], hot, 1)
    under_load = [name for name in names if "load_sent" in subjects[name]]
    print(f"\ndrain under load ({results['options']['load_runs']} runs; totals over the runs)")
    print(
        f"{'':<17}{'failed/sent':>16}{'refused':>9}{'reset':>7}{'5xx':>5}{'4xx':>5}{'term_ms':>22}"
    )
    for name in under_load:
        s = subjects[name]
        kinds = "".join(
            f"{s[f'load_failed_{kind}']['sum']:>{width}.0f}"
            for kind, width in (("refused", 9), ("reset", 7), ("5xx", 5), ("4xx", 5))
        )
        counts = f"{s['load_failed']['sum']:.0f}/{s['load_sent']['sum']:.0f}"
        print(f"{name:<17}{counts:>16}{kinds}{cell(s['load_term_ms']):>22}")
    print("\nrenders / the plain runner serving the same app (medians)")
    for name, found in results["ratios"].items():
        shown = "  ".join(f"{k} {v:.2f}x" for k, v in found.items() if k != "plain")
        print(f"  {name} / {found['plain']}: {shown}")
    print(
        "\nimport time of my_app.entrypoint (-X importtime, cumulative): "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in results["import_ms"].items())
    )
    print("\ntargets")
    for check in results["targets"]:
        verdict = {True: "met", False: "MISSED", None: "(no target)"}[check["met"]]
        print(f"  {verdict:<11} {check['target']}: {check['measured']}")
