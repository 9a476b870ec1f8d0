"""A PLC day's people, for `bench/load.py --plc-day` and `bench/faults.py soak`: teachers and their trainers, each a
thread with its own browser, in client processes that each run a test platform (one course, its teams).

A teacher launches (from the course's home link or from a cycle's reflection activity), lands, opens their
reflection and their progress, and now and then saves their reflection (a form post: a learning record); a trainer
opens a team's reflections, reads one and grades it (a form post: a learning record and a score for the platform's
gradebook, sent by the worker over AGS). A burst client launches `burst` times in `burst_seconds` (a school's
meeting opening at once), at fixed moments whatever the answers' speed.

`Day` starts the clients, gunicorn, Ralph and `plc-bridge worker`, warms every person up with a first launch (so the
tool knows them), puts the course's teachers in teams of a running program, runs the load, then lets the worker
drain and collects what the platforms' AGS received. `bench/day_report.py` prints the figures.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from sqlalchemy import func, select

from bench.harness import CLI, browser_session, form_token, register_platform, start_gunicorn, waited
from bench.procs import backends, children, cpu_seconds, machine_ticks, rss_mb
from lti_tool.demo_lms.auto_form import launch_address_of, submit_auto_form
from models.database import Database
from models.outbox import Delivery
from models.people import Context, Membership
from models.platform import Platform
from models.programs import Program
from models.roles import AppRole
from models.scores import ScorePost
from models.states import ProgramState
from models.teams import Team, TeamMember
from tests.support.lrs import PASSWORD, USER, RalphServer, free_port, ralph_python
from tests.support.lti_platform import LaunchUser, TestPlatform

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
COURSE, BURST_COURSE, CYCLES, TEAM_SIZE = "course-day", "course-burst", 3, 5
TEXT = "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ ครั้งหน้าจะให้นักเรียนสร้างโจทย์เอง"
Sample = tuple[float, str, float, int]  # (monotonic time, step, seconds, HTTP status; 0 = no answer)
NO_ANSWER: list[str] = []  # in a client process: why each request without an answer had none
OK = {"login": (302,), "launch": (200, 303), "reflection post": (303,), "grade post": (303,)}


def link(cycle: int | None) -> dict[str, Any]:
    """The LMS activity a launch comes from: the course's home link, or cycle N's reflection activity."""
    if cycle is None:
        return {"resource_link_id": "rl-day-home"}
    custom = {"plc_activity": "reflection", "plc_cycle": str(cycle)}
    return {"resource_link_id": f"rl-day-refl-{cycle}", "custom": custom}


class Browser:
    """One person's browser in the tool: times every request to the tool, keeps the session's link token."""

    def __init__(self, platform: TestPlatform, sub: str, samples: list[Sample], think: float, until: float) -> None:
        self.platform, self.sub, self.samples, self.think, self.until = platform, sub, samples, think, until
        self.session = browser_session()
        self.base = self.token = ""
        self.prefix = ""

    def over(self) -> bool:
        return time.monotonic() >= self.until

    def pause(self) -> None:
        time.sleep(random.uniform(0.5 * self.think, 1.5 * self.think))

    def timed(self, step: str, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response: requests.Response | None = self.session.request(method, url, timeout=60, **kwargs)
            status = response.status_code if response is not None else 0
        except requests.RequestException as exc:
            response, status = None, 0
            NO_ANSWER.append(f"{self.prefix}{step}: {type(exc).__name__} {waited(started)}")
        self.samples.append((time.monotonic(), self.prefix + step, time.perf_counter() - started, status))
        return response

    def launch(self, context_id: str, cycle: int | None = None) -> bool:
        """A full launch (the platform's initiation and auth, the LMS's, are not timed) and the page it leads to."""
        self.session.close()  # the last launch's browser closed: its connection goes now, not when it is collected
        self.session = browser_session()
        try:
            initiate = self.session.get(
                self.platform.initiation_url(sub=self.sub, context_id=context_id, **link(cycle)),
                allow_redirects=False,
                timeout=60,
            )
            login = self.timed("login", "GET", initiate.headers["Location"], allow_redirects=False)
            if login is None or login.status_code != 302:
                return False
            auth_page = self.session.get(login.headers["Location"], timeout=60)
            launched = self._submit("launch", auth_page, follow=False)
            # The page it leads to comes in its answer (lti_tool/web/launch_answer.py), or after a redirect.
            if launched is not None and in_answer(launched):
                landing: requests.Response | None = launched
            elif launched is not None and launched.status_code == 303:
                landing = self.timed("landing", "GET", urljoin(launched.url, launched.headers["Location"]))
            else:
                return False
        except (requests.RequestException, KeyError):
            self.samples.append((time.monotonic(), self.prefix + "launch", 0.0, 0))
            return False
        if landing is not None and landing.status_code == 200 and 'id="acknowledge"' in landing.text:
            landing = self._submit("notice read", landing)  # the notice, read once: in the warm-up
        if landing is None or landing.status_code != 200:
            return False
        parts = urlsplit(landing.url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.token = parse_qs(parts.query).get("s", [""])[0]
        return bool(self.token)

    def _submit(self, step: str, page: requests.Response, follow: bool = True) -> requests.Response | None:
        """Submit the page's form as its script does, timed as `step`; without `follow` the redirect is the answer."""
        started = time.perf_counter()
        self.session.max_redirects = 30 if follow else 0
        try:
            response: requests.Response | None = submit_auto_form(self.session, page, timeout=60)
        except requests.RequestException as exc:  # a redirect not followed comes as TooManyRedirects: the answer
            response = exc.response if isinstance(exc, requests.TooManyRedirects) and not follow else None
            if response is None:
                NO_ANSWER.append(f"{self.prefix}{step}: {type(exc).__name__} {waited(started)}")
        finally:
            self.session.max_redirects = 30
        status = response.status_code if response is not None else 0
        self.samples.append((time.monotonic(), self.prefix + step, time.perf_counter() - started, status))
        return response

    def get(self, step: str, path: str, **params: str) -> requests.Response | None:
        return self.timed(step, "GET", self.base + path, params={"s": self.token, **params})

    def post(self, step: str, path: str, data: dict[str, str]) -> requests.Response | None:
        """A form post; its 303 is followed as the page it leads to (timed as `then`)."""
        return self.timed(step, "POST", self.base + path, params={"s": self.token}, data=data, allow_redirects=False)

    def follow(self, step: str, response: requests.Response | None) -> None:
        if response is not None and response.status_code == 303:
            self.timed(step, "GET", urljoin(response.url, response.headers["Location"]))


def in_answer(page: requests.Response) -> bool:
    """Whether a launch's 200 is the page it leads to (it puts its address back), not another (platform storage)."""
    return page.status_code == 200 and launch_address_of(page) is not None


def teacher(browser: Browser) -> None:
    while not browser.over():
        cycle = random.randint(1, CYCLES)
        if not browser.launch(COURSE, cycle if random.random() < 0.6 else None):
            browser.pause()
            continue
        for _ in range(random.randint(3, 6)):
            if browser.over():
                return
            browser.pause()
            choice = random.random()
            if choice < 0.45:
                path = f"/program/cycles/{cycle}/reflection"
                page = browser.get("reflection page", path)
                token = form_token(page.text, path) if page is not None and page.status_code == 200 else None
                if token and 'name="text"' in page.text and random.random() < 0.35:  # type: ignore[union-attr]
                    browser.pause()
                    text = f"{TEXT} ({uuid.uuid4().hex[:6]})"
                    browser.follow(
                        "reflection page", browser.post("reflection post", path, {"csrf": token, "text": text})
                    )
                cycle = random.randint(1, CYCLES)
            elif choice < 0.8:
                browser.get("progress page", "/program/progress")
            else:
                browser.get("landing", "/home")
        browser.pause()


def trainer(browser: Browser, team_ids: list[int]) -> None:
    while not browser.over():
        if not browser.launch(COURSE):
            browser.pause()
            continue
        for _ in range(8):
            if browser.over():
                return
            browser.pause()
            listing = browser.get("reflections list", "/program/reflections", team=str(random.choice(team_ids)))
            ids = re.findall(r'/program/reflections/(\d+)[?"]', listing.text) if listing is not None else []
            if not ids:
                continue
            browser.pause()
            rid = random.choice(ids)
            review = browser.get("reflection review", f"/program/reflections/{rid}")
            action = f"/program/reflections/{rid}/grade"
            token = form_token(review.text, action) if review is not None and review.status_code == 200 else None
            if token is None:
                continue
            levels: dict[str, list[str]] = {}
            for criterion, level in re.findall(r'name="score-([\w-]+)" value="(\d+)"', review.text):  # type: ignore[union-attr]
                levels.setdefault(criterion, []).append(level)
            data = {"csrf": token, "comment": "ดีมาก"} | {f"score-{c}": random.choice(v) for c, v in levels.items()}
            browser.pause()
            browser.follow("reflection review", browser.post("grade post", action, data))


def burst(browser_for: Any, count: int, seconds: float, start: float) -> None:
    """`count` launches at even moments over `seconds` from `start`, each in its own thread (open loop)."""
    threads = []
    for n in range(count):
        time.sleep(max(0.0, start + n * seconds / count - time.monotonic()))
        thread = threading.Thread(target=lambda n=n: browser_for(n).launch(BURST_COURSE), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=120)


@dataclass
class Plan:
    users: int = 200
    seconds: float = 300.0
    think: float = 1.0
    processes: int = 4
    burst: int = 500
    burst_seconds: float = 60.0
    burst_at: float = 60.0  # seconds into the run
    web_workers: int = 2
    threads: int = 4


def client(index: int, kind: str, teachers: int, plan: Plan, base: str, pipe: Any, ags_down: Any) -> None:
    """A client process: its platform, its people; talks to the parent over `pipe`."""
    platform = TestPlatform(client_id=f"day-{index}", deployment_id="dep-day").start()
    platform.configure_tool(base + "/lti/login", base + "/lti/launch", base + "/lti/jwks")
    role = LIS + "Learner"
    subs = [f"day-{index}-{n}" for n in range(teachers)]
    for sub in [*subs, f"day-{index}-trainer"]:
        is_trainer = sub.endswith("trainer")
        platform.add_user(LaunchUser(sub=sub, name=f"ครู {sub}", given_name="ครู", family_name=sub,
                                     email=f"{sub}@example.org", roles=[LIS + "Instructor" if is_trainer else role]))  # fmt: skip
    pipe.send((platform.issuer, platform.client_id, platform.auth_login_url, platform.token_url, platform.jwks_url))

    def watch_ags() -> None:
        while True:
            platform.services.ags_mode = "down" if ags_down.is_set() else "ok"
            time.sleep(0.2)

    threading.Thread(target=watch_ags, daemon=True).start()
    samples: list[Sample] = []
    pipe.recv()  # warm up: every person launches once, the trainer from every reflection activity too
    if kind == "course":
        warm = [Browser(platform, sub, samples, 0, 0) for sub in subs]
        trainer_browser = Browser(platform, f"day-{index}-trainer", samples, 0, 0)
        for cycle in (None, *range(1, CYCLES + 1)):
            trainer_browser.launch(COURSE, cycle)
        threads = [threading.Thread(target=b.launch, args=(COURSE,)) for b in warm]
    else:
        threads = [
            threading.Thread(target=Browser(platform, s, samples, 0, 0).launch, args=(BURST_COURSE,)) for s in subs
        ]
    for n in range(0, len(threads), 8):
        for thread in threads[n : n + 8]:
            thread.start()
        for thread in threads[n : n + 8]:
            thread.join()
    pipe.send(len(samples))
    team_ids = pipe.recv()
    samples.clear()
    started = time.monotonic()
    until = started + plan.seconds
    if kind == "course":
        people = [
            threading.Thread(target=teacher, args=(Browser(platform, s, samples, plan.think, until),)) for s in subs
        ]
        tb = Browser(platform, f"day-{index}-trainer", samples, plan.think, until)
        people.append(threading.Thread(target=trainer, args=(tb, team_ids)))
        for thread in people:
            thread.start()
            time.sleep(plan.think / max(len(people), 1))  # ramp up over one think time
    else:

        def browser_for(n: int) -> Browser:
            b = Browser(platform, subs[n % len(subs)], samples, plan.think, until)
            b.prefix = "burst "
            return b

        people = [threading.Thread(target=burst, args=(browser_for, plan.burst, plan.burst_seconds,
                                                        started + plan.burst_at))]  # fmt: skip
        people[0].start()
    for thread in people:
        thread.join()
    pipe.send(([(t - started, step, seconds, status) for t, step, seconds, status in samples], NO_ANSWER))
    pipe.recv()  # the parent has drained the outboxes
    pipe.send([(s.lineitem_id, s.score.get("userId"), s.score.get("timestamp"), s.applied)
               for s in platform.services.received_scores])  # fmt: skip
    platform.stop()


@dataclass
class Day:
    """The tool's processes, Ralph, the worker and the clients for one run; see the module's docstring."""

    plan: Plan
    database_url: str
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # group → CPU seconds at the start and at the end
    web_pids: set[int] = field(default_factory=set)
    restarts: int = 0  # the soak's faults: Ralph's and PostgreSQL's processes changed

    def start(self) -> None:
        python = ralph_python()
        if python is None:
            raise SystemExit("Ralph is not installed (scripts/test.sh makes .venv-ralph; or set PLC_RALPH_PYTHON)")
        self.ralph = RalphServer(self.workdir / "ralph", python).start()
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        lrs = [{"name": "district", "endpoint": self.ralph.base_url + "/xAPI/", "username": USER, "password": PASSWORD}]
        self.env = {
            **os.environ,
            "PLC_DATABASE_URL": self.database_url,
            "PLC_PUBLIC_BASE_URL": self.base,
            "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
            "PLC_INSTANCE_PATH": str(self.workdir),
            "PLC_WORKER_THREAD": "false",
            "PLC_RATE_LIMIT_LTI": "100000 per minute",
            "PLC_LOG_LEVEL": "ERROR",
            "PLC_LRS": json.dumps(lrs),
            **self.env_extra,
        }
        subprocess.run([*CLI, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        ctx = mp.get_context("spawn")
        self.ags_down = ctx.Event()
        p = self.plan
        per = [p.users // p.processes + (1 if i < p.users % p.processes else 0) for i in range(p.processes)]
        layout = [("course", max(n - 1, 1)) for n in per] + ([("burst", 100)] if p.burst else [])
        self.pipes, self.clients = [], []
        for index, (kind, teachers) in enumerate(layout):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=client, args=(index, kind, teachers, p, self.base, theirs, self.ags_down))
            process.start()
            self.pipes.append(mine)
            self.clients.append(process)
        self.kinds = [kind for kind, _ in layout]
        for pipe in self.pipes:
            issuer, client_id, auth, token, jwks = pipe.recv()
            register_platform(self.env, _Registration(issuer, client_id, auth, token, jwks))
        self.web = start_gunicorn(self.env, port, workers=p.web_workers, threads=p.threads)
        self.worker = self.start_worker()
        for pipe in self.pipes:
            pipe.send("warm")
        self.warm_launches = sum(pipe.recv() for pipe in self.pipes)
        teams = self.seed()
        for pipe in self.pipes:
            pipe.send(teams[pipe])
        self.started = time.monotonic()
        self.cpu_mark()
        self._sampling = threading.Event()
        threading.Thread(target=self._sample_rss, daemon=True).start()

    def start_worker(self) -> subprocess.Popen[bytes]:
        """`plc-bridge worker` as config/deploy/plc-bridge-worker@.service runs it (its default poll interval)."""
        return subprocess.Popen([*CLI, "worker"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def seed(self) -> dict[Any, list[int]]:
        """Each course's teachers in teams of five in a running program (the trainer's setup, done in the database)."""
        database = Database(self.database_url)
        by_issuer: dict[str, list[int]] = {}
        with database.transaction() as db:
            for context in db.scalars(select(Context).where(Context.context_id == COURSE)):
                teachers = list(db.scalars(select(Membership.id).where(
                    Membership.context_id == context.id, Membership.app_role == AppRole.TEACHER.value
                ).order_by(Membership.id)))  # fmt: skip
                program = Program(platform_id=context.platform_id, context_id=context.id, name="PLC วันทดสอบ",
                                  state=ProgramState.RUNNING, approved_on=date.today() - timedelta(days=30),
                                  started_on=date.today() - timedelta(days=20))  # fmt: skip
                for n in range(0, len(teachers), TEAM_SIZE):
                    members = [TeamMember(membership_id=t) for t in teachers[n : n + TEAM_SIZE]]
                    program.teams.append(Team(name=f"กลุ่ม PLC {n // TEAM_SIZE + 1:02d}", members=members))
                db.add(program)
                db.flush()
                issuer = db.scalars(select(Platform.issuer).where(Platform.id == context.platform_id)).one()
                by_issuer[issuer] = [team.id for team in program.teams]
        database.dispose()
        return {pipe: by_issuer.get(issuer, []) for pipe, issuer in zip(self.pipes, self._issuers(), strict=True)}

    def _issuers(self) -> list[str]:
        database = Database(self.database_url)
        with database.transaction() as db:
            issuers = {p.client_id: p.issuer for p in db.scalars(select(Platform))}
        database.dispose()
        return [issuers[f"day-{n}"] for n in range(len(self.pipes))]

    def _sample_rss(self) -> None:
        while not self._sampling.wait(2.0):
            self.rss_now()

    def rss_now(self) -> None:
        web = children(self.web.pid)
        self.web_pids.update(web)
        named = {"gunicorn master": [self.web.pid], "gunicorn workers": web, "plc-bridge worker": [self.worker.pid]}
        for name, pids in named.items():
            for pid in pids:
                self.rss.setdefault(f"{name} {pid}", []).append(rss_mb(pid))
        if self.ralph.process is not None:  # one line whichever process it is (the soak restarts it)
            self.rss.setdefault("Ralph", []).append(rss_mb(self.ralph.process.pid))

    def cpu_mark(self) -> None:
        """CPU seconds used so far by each group of processes, and by the whole machine (busy, total jiffies)."""
        database = self.database_url.rsplit("/", 1)[1]
        groups = {
            "gunicorn (master and workers)": [self.web.pid, *children(self.web.pid)],
            "plc-bridge worker": [self.worker.pid],
            "PostgreSQL backends of this database (alive now)": backends(database),
            "Ralph": [self.ralph.process.pid] if self.ralph.process is not None else [],
            "load clients and test platforms": [process.pid for process in self.clients if process.pid],
        }
        for name, pids in groups.items():
            self.cpu.setdefault(name, []).append(sum(cpu_seconds(pid) for pid in pids))
        self.ticks = [*getattr(self, "ticks", []), machine_ticks()]

    def samples(self) -> list[Sample]:
        found: list[Sample] = []
        self.no_answer: list[str] = []
        for pipe in self.pipes:
            samples, no_answer = pipe.recv()
            found.extend(samples)
            self.no_answer.extend(no_answer)
        self.elapsed = time.monotonic() - self.started
        self.cpu_mark()
        self._sampling.set()
        return found

    def pending(self) -> tuple[int, int]:
        """Learning-record deliveries and scores still waiting."""
        database = Database(self.env["PLC_DATABASE_URL"])
        try:
            with database.transaction() as db:
                deliveries = db.scalar(select(func.count()).where(Delivery.state == "pending")) or 0
                scores = db.scalar(select(func.count()).where(ScorePost.state == "pending")) or 0
        finally:
            database.dispose()
        return int(deliveries), int(scores)

    def drain(self, seconds: float) -> float:
        """Until nothing waits (or `seconds`); how long it took."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                if self.pending() == (0, 0):
                    break
            except Exception:  # noqa: BLE001 - the database may be coming back
                pass
            time.sleep(1)
        return time.monotonic() - started

    def received_scores(self) -> list[tuple[str, str, str, bool]]:
        for pipe in self.pipes:
            pipe.send("done")
        found: list[tuple[str, str, str, bool]] = []
        for pipe in self.pipes:
            found.extend(pipe.recv())
        for process in self.clients:
            process.join(timeout=30)
        return found

    def stop(self) -> None:
        """Stop what `start` started, also when it stopped half-way (so that its own error is the one shown)."""
        started = [p for p in (getattr(self, "worker", None), getattr(self, "web", None)) if p is not None]
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if hasattr(self, "ralph"):
            self.ralph.stop()


@dataclass
class _Registration:
    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_id: str = "dep-day"
