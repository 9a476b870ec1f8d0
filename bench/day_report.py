"""What `bench/load.py --plc-day` and `bench/faults.py soak` print: requests per second, p50/p95/p99 per step, errors,
RSS per process, the machine's load; and for the soak, learning records and scores lost or duplicated."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from bench.plc_day import OK, Day, Sample
from models.database import Database
from models.outbox import Delivery, OutboxStatement
from models.scores import ScorePost, ScoreState

PAGE_TARGET_MS, LAUNCH_TARGET_MS, RSS_TARGET_MB = 250.0, 400.0, 200.0
BUSY_FOR_TARGETS = 0.7  # a rule of thumb for queues short enough for those targets, not a measured bound
LAUNCH_STEPS = ("login", "launch", "burst login", "burst launch")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def is_error(step: str, status: int) -> bool:
    """No answer, a server error, or a refusal a person would see as a failure (any 4xx but 409/422, which are the
    tool's answers to a conflicting or invalid form: a reflection graded while its author was editing it)."""
    expected = OK.get(step.removeprefix("burst "), (200,))
    return status not in expected and status not in (409, 422)


def print_steps(samples: list[Sample], seconds: float, no_answer: list[str] | None = None) -> int:
    """The table per step; returns the number of errors."""
    errors = [s for s in samples if is_error(s[1], s[3])]
    print(f"  tool requests: {len(samples)} in {seconds:.0f} s = {len(samples) / seconds:.1f}/s")
    print(f"    {'step':20s} {'n':>6s} {'per s':>6s} {'p50':>7s} {'p95':>7s} {'p99':>7s}  target p95  errors")
    for step in sorted({s[1] for s in samples}, key=lambda name: (name.startswith("burst"), name)):
        mine = [s for s in samples if s[1] == step]
        ms = [s[2] * 1000 for s in mine]
        target = LAUNCH_TARGET_MS if step in LAUNCH_STEPS else PAGE_TARGET_MS
        p95 = percentile(ms, 95)
        flag = "ok" if p95 < target else "OVER"
        bad = sum(1 for s in mine if is_error(s[1], s[3]))
        print(f"    {step:20s} {len(mine):6d} {len(mine) / seconds:6.1f} {percentile(ms, 50):7.1f} {p95:7.1f} "
              f"{percentile(ms, 99):7.1f}  <{target:.0f} {flag:4s} {bad:5d}")  # fmt: skip
    refused = Counter(s[3] for s in samples if s[3] in (409, 422))
    statuses = Counter(s[3] for s in errors)
    print(f"  errors: {len(errors)}" + (f" (status: count {dict(statuses)}; 0 = no answer)" if errors else ""))
    if refused:
        print(f"  refused forms (the tool's own answers, not errors): {dict(refused)}")
    for why, count in Counter(no_answer or []).most_common(8):
        print(f"    no answer: {why} x{count}")
    return len(errors)


def print_rss(day: Day) -> None:
    print(f"  RSS per process, MB (max over the run, last), target < {RSS_TARGET_MB:.0f} MB per web process:")
    for name, values in sorted(day.rss.items()):
        seen = [v for v in values if v > 0]
        if seen:
            print(f"    {name:32s} max {max(seen):6.1f}  last {seen[-1]:6.1f}")
    restarted = len(day.web_pids) - day.plan.web_workers
    print(f"  gunicorn worker processes seen: {len(day.web_pids)} (replaced by gunicorn: {max(restarted, 0)})")


def print_cpu(day: Day, samples: list[Sample]) -> None:
    """Where the machine's cycles went during the load: ours by group, and the whole machine (other work included);
    the server side's CPU per tool request, and the rate these cores would serve at that cost were they ours alone."""
    (busy0, total0), (busy1, total1) = day.ticks[0], day.ticks[-1]
    cores = os.cpu_count() or 1
    print(f"  CPU during the load ({day.elapsed:.0f} s x {cores} cores = {day.elapsed * cores:.0f} core-seconds):")
    ours = server = 0.0
    for name, marks in day.cpu.items():
        used = marks[-1] - marks[0] if len(marks) > 1 else 0.0
        ours += max(used, 0.0)
        server += max(used, 0.0) if not name.startswith("load clients") else 0.0
        if name in ("Ralph", "PostgreSQL backends of this database (alive now)") and day.restarts:
            print(f"    {name:50s}     n/a  (restarted during the run: its processes changed)")
            continue
        print(f"    {name:50s} {used:7.1f} s  ({used / day.elapsed * 100:5.1f}% of one core)")
    busy = (busy1 - busy0) / max(total1 - total0, 1) * 100
    print(f"    the whole machine was busy {busy:.0f}% of the time; this bench's processes used "
          f"{ours / (day.elapsed * cores) * 100:.0f}% of it (other helpers' work is the rest)")  # fmt: skip
    requests = len(samples)
    if requests:
        per = server / requests
        print(f"    server side (gunicorn, PostgreSQL, worker, Ralph): {per * 1000:.1f} ms CPU per tool request, so "
              f"at most ~{cores / per:.0f} requests/s on {cores} cores of our own")  # fmt: skip
        print_budget(day, samples, None if day.restarts else ours / requests)


def print_budget(day: Day, samples: list[Sample], cpu_per_request: float | None) -> None:
    """What the p95 targets ask of the CPU. The people of the day (not the burst, which keeps its own pace) are each
    either waiting for an answer or thinking, and their thinking does not depend on the server: with X requests/s
    answered in R seconds on average, X·R of the N people wait (Little's law), and were every answer instant the
    same people would send N·X / (N − X·R) requests/s; during the burst, its launches come on top. Serving that with
    the machine at most BUSY_FOR_TARGETS busy leaves the CPU per request printed, for everything on these cores
    (server, load clients, test platforms). The platform's own steps of a launch (untimed) count as thinking, so the
    rates are if anything low. `cpu_per_request` None: not known (processes were restarted during the run)."""
    plan, cores = day.plan, os.cpu_count() or 1
    own = [s for s in samples if not s[1].startswith("burst ")]
    if not own or plan.seconds <= 0:
        return
    rate, waiting = len(own) / plan.seconds, sum(s[2] for s in own) / plan.seconds  # X, and X·R
    if waiting >= plan.users:
        return
    steady = plan.users * rate / (plan.users - waiting)
    burst = plan.burst > 0 and plan.burst_seconds > 0
    peak = steady + (len(samples) - len(own)) / plan.burst_seconds if burst else steady
    print(f"    were every answer instant, these people would send ~{steady:.0f} requests/s"
          + (f", ~{peak:.0f} during the burst" if burst else "")
          + f" ({waiting:.0f} of {plan.users} were waiting for an answer at any moment); with the cores at most "
          f"{BUSY_FOR_TARGETS:.0%} busy that leaves {BUSY_FOR_TARGETS * cores / steady * 1000:.1f} ms of CPU per "
          "request for everything on them"
          + (f", {BUSY_FOR_TARGETS * cores / peak * 1000:.1f} ms during the burst" if burst else "")
          + (f"; this run used {cpu_per_request * 1000:.1f} ms (server and load clients)" if cpu_per_request else ""))  # fmt: skip


def count_losses(day: Day, received: Iterable[tuple[str, str, str, bool]]) -> dict[str, Any]:
    """Learning records: the outbox against what Ralph holds; scores: the score outbox against what the platforms'
    AGS received. Lost: in the outbox, never arrived. A record is duplicated when Ralph holds it twice; a score when
    the platform applied it twice (in two line items). A score sent again to its line item after a pass that could
    not record its answer (the database went away after the POST) is the same document with the same timestamp, which
    the platform keeps once (AGS §3.4.7): counted apart, as resent."""
    database = Database(day.env["PLC_DATABASE_URL"])
    with database.transaction() as db:
        outbox = set(db.scalars(select(OutboxStatement.id)))
        delivery_states = Counter(db.scalars(select(Delivery.state)))
        posts = [(p.state, p.score.get("userId"), p.score.get("timestamp")) for p in db.scalars(select(ScorePost))]
    database.dispose()
    stored = day.ralph.stored_ids()
    received = list(received)
    arrived = Counter((user, timestamp) for _, user, timestamp, _ in received)
    # Where each score was applied: the platform applies a (user, timestamp) once per line item at most (a resend
    # changes nothing), so applied more than once is the same grade in two gradebook columns.
    applied = Counter((user, timestamp) for _, user, timestamp, kept in received if kept)
    per_item = Counter((item, user, timestamp) for item, user, timestamp, _ in received)
    resent = sum(1 for (_, user, timestamp), n in per_item.items() if n > 1 and applied[(user, timestamp)] == 1)
    sent = [(state, arrived[(user, ts)], applied[(user, ts)]) for state, user, ts in posts]
    return {
        "records": len(outbox),
        "delivery states": dict(delivery_states),
        "records in Ralph": len(stored),
        "records lost": len(outbox - set(stored)),
        "records duplicated": sum(1 for n in stored.values() if n > 1),
        "records in Ralph not in the outbox": len(set(stored) - outbox),
        "scores": len(posts),
        "score states": dict(Counter(state for state, _, _ in sent)),
        "scores received": sum(arrived.values()),
        "scores lost": sum(1 for state, n, _ in sent if n == 0 and state != ScoreState.SUPERSEDED.value),
        "scores duplicated": sum(1 for _, _, kept in sent if kept > 1),
        "scores resent and kept once": resent,
    }
