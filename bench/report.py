"""Ratios, targets (issue 6), and the Markdown written to bench/results/latest.md and docs/performance.md."""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any

from bench.townhall import townhall_targets
from bench.wrk import Result

PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
PAGE_START, PAGE_END = "<!-- bench:start -->", "<!-- bench:end -->"
GROWTH_TOLERANCE = 1.25  # "must not grow noticeably": within 25 % of the figure measured just before


def with_ratios(results: list[Result]) -> dict[str, Any]:
    """Ratios to the references' mean over the start and the end of the run (which also shows the drift)."""
    constant = [r.rps for r in results if r.name.startswith("reference: constant")]
    token = [r.rps for r in results if r.name.startswith("reference: token only")]
    constant_rps, token_rps = mean(constant), mean(token)
    for result in results:
        result.ratio_constant = round(result.rps / constant_rps, 3)
        result.ratio_token = round(result.rps / token_rps, 3)
    return {
        "constant_rps": round(constant_rps, 1),
        "token_rps": round(token_rps, 1),
        "constant_drift": round(constant[-1] / constant[0] - 1, 3),
        "token_drift": round(token[-1] / token[0] - 1, 3),
    }


def _find(results: list[Result], prefix: str, connections: int = 32) -> Result:
    return next(r for r in results if r.name.startswith(prefix) and r.connections == connections)


def targets(results: list[Result], town_hall: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    join = _find(results, "1. anonymous join")
    knock, poll = _find(results, "3. lobby knock"), _find(results, "3. lobby poll")
    knock_8, poll_8 = _find(results, "3. lobby knock", 8), _find(results, "3. lobby poll", 8)
    small, large = (
        _find(results, "4. waiting list, first page, 10 waiting"),
        _find(results, "4. waiting list, first page, 10,000"),
    )
    rooms_before, rooms_after = _find(results, "6. join, 10 rooms"), _find(results, "6. join, 100,010 rooms")
    keys_after = _find(results, "6. join, + 100,000")
    list_before, list_after = (
        _find(results, "6. waiting list (10 waiting), before"),
        _find(results, "6. waiting list (10 waiting), +"),
    )

    def grew(before: Result, after: Result) -> tuple[bool, str]:
        p50, rps = after.p50_ms / before.p50_ms, after.rps / before.rps
        return p50 <= GROWTH_TOLERANCE and rps >= 1 / GROWTH_TOLERANCE, f"p50 x{p50:.2f}, req/s x{rps:.2f}"

    checks: list[tuple[str, bool, str]] = [
        ("1. join (32 conn.) >= 40% of token-only req/s", join.ratio_token >= 0.40, f"{join.ratio_token:.0%}"),
        ("1. join (32 conn.) p99 < 25 ms", join.p99_ms < 25, f"{join.p99_ms:.1f} ms"),
        ("3. knock >= 30% of token-only req/s", knock.ratio_token >= 0.30, f"{knock.ratio_token:.0%}"),
        ("3. knock p99 < 25 ms, 32 conn. (saturated)", knock.p99_ms < 25, f"{knock.p99_ms:.1f} ms"),
        ("3. knock p99 < 25 ms, 8 conn.", knock_8.p99_ms < 25, f"{knock_8.p99_ms:.1f} ms"),
        ("3. poll >= 30% of token-only req/s", poll.ratio_token >= 0.30, f"{poll.ratio_token:.0%}"),
        ("3. poll p99 < 25 ms, 32 conn. (saturated)", poll.p99_ms < 25, f"{poll.p99_ms:.1f} ms"),
        ("3. poll p99 < 25 ms, 8 conn.", poll_8.p99_ms < 25, f"{poll_8.p99_ms:.1f} ms"),
        (
            "4. first page with 10,000 waiting within 3x the latency of 10 waiting (p50)",
            large.p50_ms <= 3 * small.p50_ms,
            f"x{large.p50_ms / small.p50_ms:.2f} (p99 x{large.p99_ms / small.p99_ms:.2f})",
        ),
        ("6. join: 100,010 vs 10 rooms, within 25%", *grew(rooms_before, rooms_after)),
        ("6. join: + 100,000 unrelated Redis keys, within 25%", *grew(rooms_after, keys_after)),
        ("6. waiting list: + 100,000 unrelated Redis keys, within 25%", *grew(list_before, list_after)),
        ("No error and no non-2xx answer in any scenario", not any(r.errors or r.non_2xx for r in results), ""),
        *(townhall_targets(town_hall) if town_hall else []),
    ]
    return [{"target": name, "met": met, "measured": measured} for name, met, measured in checks]


def markdown(report: dict[str, Any]) -> str:
    info, refs = report["machine"], report["references"]
    lines = [
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), Python {info['python']}, {info['wrk']} "
        f"(2 threads, on the same machine). Load average {info['load_average_before']} before, "
        f"{info.get('load_average_after', '?')} after; CPU {info['cpu_busy_before_percent']}% busy just before, "
        f"{info.get('cpu_busy_after_percent', '?')}% just after (other users of the machine). "
        f"Server: {report['server']}, {report['workers']} worker(s), production profile, PostgreSQL + Redis "
        f"(local, own ports). {report['seconds_per_measurement']} s per measurement after a 1 s warm-up; "
        f"32 connections unless stated. References: constant {refs['constant_rps']:,.0f} req/s "
        f"(drift start to end {refs['constant_drift']:+.0%}), token-only {refs['token_rps']:,.0f} req/s "
        f"(drift {refs['token_drift']:+.0%}).",
        "",
        "| scenario | conn. | req/s | p50 ms | p99 ms | errors | non-2xx | x constant | x token-only |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['name']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
        f"{r['errors']} | {r['non_2xx']} | {r['ratio_constant']:.2f} | {r['ratio_token']:.2f} |"
        for r in report["results"]
    ]
    found = report.get("town_hall")
    if found:
        lines += [
            "",
            f"Town hall (one API process, one worker): {found['streams']:,} participants knocked and opened their "
            f"event stream in one room ({found['opened']:,} open after {found['open_seconds']} s), idle "
            f"{found['idle_seconds']:.0f} s, then one `admit-all` ({found['admitted']:,} admitted, answered in "
            f"{found['admit_all_ms']:,.0f} ms).",
            "",
            "| streams | RSS per stream | idle CPU | delivery p50 | p99 | max | delivered | lost | gone |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {found['streams']:,} | {found['rss_per_stream_kb']} KB | {found['idle_cpu_percent']}% | "
            f"{found['delivery_p50_ms']:,.0f} ms | {found['delivery_p99_ms']:,.0f} ms | "
            f"{found['delivery_max_ms']:,.0f} ms | {found['delivered']:,} | {found['lost']} | {found['gone']} |",
        ]
    outbound = report.get("outbound_webhooks")
    if outbound:
        lines += [
            "",
            "Outbound webhooks (one process's delivery step, a receiver on loopback, PostgreSQL's outbox): "
            f"{outbound['deliveries_per_second']:,.0f} deliveries/s draining a burst of 2,000; events at 100/s "
            f"with 1 s polls arrive {outbound['delay_p50_ms']:,.0f} ms (p50) and "
            f"{outbound['delay_p99_ms']:,.0f} ms (p99) after they took effect; {outbound['failed_attempts']} "
            "failed attempts.",
        ]
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {t['target']} | {'yes' if t['met'] else '**no**'} | {t['measured']} |" for t in report["targets"]]
    if report["worker_sweep"]:
        lines += [
            "",
            "Worker sweep (3 s each, 32 connections): the scenarios use the fewest workers whose join req/s is "
            "within 5% of the best.",
            "",
            "| server | workers | token-only req/s | join req/s | join p50 ms | join p99 ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['server']} | {row['workers']} | {row['token_rps']:,.0f} | {row['join_rps']:,.0f} | "
            f"{row['join_p50_ms']:.1f} | {row['join_p99_ms']:.1f} |"
            for row in report["worker_sweep"]
        ]
    if report.get("scaled_out"):
        lines += [
            "",
            "Scaled out (7): the same requests on a Redis Cluster (3 masters, 1 replica each) and through PgBouncer "
            "(transaction pooling), measured back to back with one Redis and PostgreSQL directly, the two servers "
            "up together; ratios are cluster + PgBouncer over one Redis + PostgreSQL.",
            "",
            "| scenario | one Redis, PostgreSQL req/s | p50 ms | p99 ms | Redis Cluster, PgBouncer req/s | p50 ms "
            "| p99 ms | x req/s | x p50 | x p99 | non-2xx |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {row['scenario']} | {row['single']['rps']:,.0f} | {row['single']['p50_ms']:.1f} | "
            f"{row['single']['p99_ms']:.1f} | {row['scaled']['rps']:,.0f} | {row['scaled']['p50_ms']:.1f} | "
            f"{row['scaled']['p99_ms']:.1f} | {row['rps_ratio']:.2f} | {row['p50_ratio']:.2f} | "
            f"{row['p99_ratio']:.2f} | {row['single']['non_2xx'] + row['scaled']['non_2xx']} |"
            for row in report["scaled_out"]
        ]
    for key, title in (("join", "anonymous join"), ("knock", "lobby knock")):
        found = (report.get("profiles") or {}).get(key)
        if not found:
            continue
        lines += ["", f"Where one worker's CPU goes, {title} (py-spy, {found['samples']} samples):", ""]
        lines += [f"- {share}% {name}" for name, share in found["buckets"]]
    return "\n".join(lines) + "\n"


def update_performance_page(table: str) -> None:
    """The latest results in docs/performance.md, between its two markers."""
    text = PAGE.read_text()
    if PAGE_START not in text or PAGE_END not in text:
        return
    head, _, rest = text.partition(PAGE_START)
    _, _, tail = rest.partition(PAGE_END)
    PAGE.write_text(f"{head}{PAGE_START}\n{table}{PAGE_END}{tail}")
