"""`python bench/load.py --plc-day`: one PLC day's load (bench/plc_day.py) on a throwaway PostgreSQL database."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from bench.day_report import count_losses, load_average, print_cpu, print_rss, print_steps
from bench.plc_day import Day, Plan
from tests.support.pg import throwaway_database


def plc_day(args: argparse.Namespace) -> None:
    seconds = args.seconds or 300.0
    plan = Plan(
        users=args.users or 200,
        seconds=seconds,
        think=args.think,
        processes=args.processes or 4,
        burst=args.burst,
        burst_seconds=min(args.burst_seconds, seconds),
        burst_at=args.burst_at if args.burst_at is not None else seconds / 5,
        web_workers=args.web_workers,
        threads=args.threads,
    )
    print(f"PLC day: {plan.users} people (a trainer per course of ~{plan.users // plan.processes}), think ~{plan.think} s, "
          f"{seconds:.0f} s; burst of {plan.burst} launches in {plan.burst_seconds:.0f} s from {plan.burst_at:.0f} s; "
          f"gunicorn {plan.web_workers} workers x {plan.threads} threads, PostgreSQL, plc-bridge worker → Ralph")  # fmt: skip
    print(f"  before: {load_average()}")
    with throwaway_database("plc_day") as url, tempfile.TemporaryDirectory(prefix="plc-day-") as tmp:
        day = Day(plan, url, Path(tmp))
        try:
            day.start()
            print(f"  warm-up launches (not counted): {day.warm_launches} requests; load running")
            samples = day.samples()
            print(f"  at the end of the load: {load_average()}")
            day.rss_now()
            backlog = day.pending()
            drained = day.drain(180)
            received = day.received_scores()
            counts = count_losses(day, received)
        finally:
            day.stop()
    print_steps(samples, day.elapsed, day.no_answer)
    print_rss(day)
    print_cpu(day, samples)
    print(f"  worker: {backlog[0]} learning records and {backlog[1]} scores waiting when the load stopped, "
          f"drained in {drained:.0f} s")  # fmt: skip
    print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    print(f"  uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
