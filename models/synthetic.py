"""Synthetic districts for demos and benchmarks (`plc-bridge seed-demo`): Thai names, networks of schools, teachers,
PLC programs over three years with teams, cycles, sessions, attendance, observations, reflections, grades and the
student results each cycle targeted. Every name is made up and the district says "ข้อมูลสังเคราะห์" (synthetic).

Rows go in with Core `insert()` over lists of dicts, with ids given here (then the PostgreSQL sequences are moved
past them), so the large size (about 700,000 rows) takes seconds, not minutes. A district is seeded once: a
second run on the same database and platform is refused before anything is written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from models.assessments import Assessment, Phase, RaterKind
from models.base import Base
from models.calendar import buddhist_era, last_day_of_program
from models.catalog import assessment_scale, default_target_competencies
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import refresh_district
from models.district import District, Leader, Network, ProgramPlacement, School
from models.forms import GOAL_FIELD, GOAL_MET, GOAL_NOT_MET, IMPROVEMENTS_FIELD, RESULTS_FORM, FormEntry
from models.observations import Observation
from models.people import Context, Membership, Person
from models.platform import Deployment, Platform
from models.programs import Program
from models.reflections import Grade, Reflection
from models.teams import CycleAssignment, Team, TeamMember

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SYNTHETIC = "ข้อมูลสังเคราะห์"


@dataclass(frozen=True)
class Size:
    name: str
    networks: int
    schools: int
    teachers: int
    teams: int
    years: tuple[int, ...] = (2024, 2025, 2026)


SIZES = {
    "large": Size("large", networks=30, schools=300, teachers=12_000, teams=2_000),
    # 1/30 of the large district, with two networks so that a network leader sees only half of it.
    "small": Size("small", networks=2, schools=10, teachers=400, teams=67),
}

GIVEN = (
    "สมชาย สมศรี สุดา วิไล ประเสริฐ อรุณี กิตติ ปราณี ชัยวัฒน์ นงลักษณ์ ธนพล พรทิพย์ วีระ สุนันทา อนุชา มาลี "
    "ศักดิ์ชัย รัตนา ณัฐพล กาญจนา สุรชัย จันทร์เพ็ญ พิชิต วรรณา ธีรศักดิ์ ศิริพร อำนาจ เยาวลักษณ์ บุญมี ละเอียด "
    "ปิยะ อัญชลี สมบัติ ดวงใจ ภานุวัฒน์ ชุติมา เกียรติ นิตยา ยุทธนา พัชรี"
).split()
FAMILY = (
    "ใจดี ทองคำ ศรีสุข แก้วมณี บุญประเสริฐ สายทอง พรหมมา จันทร์หอม ศรีวงศ์ อินทร์แก้ว มั่นคง รุ่งเรือง "
    "ปัญญาดี ชัยมงคล สุขสวัสดิ์ วงศ์ใหญ่ แสงทอง นาคสุข คำแก้ว ทองดี พึ่งบุญ สมบูรณ์ ศรีเมือง เพชรรัตน์"
).split()
PLACES = (
    "หนองบัว ดอนแก้ว ห้วยทราย โคกสูง บ่อทอง นาดี ป่าตาล หนองแวง ดงเย็น ท่าช้าง บางกระทิง วังน้ำเย็น "
    "หัวฝาย โพธิ์ทอง สามัคคี หนองหิน คลองใหม่ หนองปลิง ศรีสำราญ ทุ่งใหญ่ ดอนตูม นาเจริญ หนองสระ ห้วยยาง "
    "โนนสว่าง ท่าตะเคียน วังหิน บ้านไร่ หนองกุง บึงบอน ดอนมะนาว สระแก้ว ไผ่ล้อม ม่วงหวาน ทุ่งสว่าง"
).split()
AREAS = (
    "คณิตศาสตร์",
    "วิทยาศาสตร์และเทคโนโลยี",
    "ภาษาไทย",
    "ภาษาต่างประเทศ",
    "สังคมศึกษา ศาสนา และวัฒนธรรม",
)
GRADES = ("ป.1", "ป.2", "ป.3", "ป.4", "ป.5", "ป.6", "ม.1", "ม.2", "ม.3")
PROBLEMS = {
    "คณิตศาสตร์": "นักเรียนแก้โจทย์ปัญหาเศษส่วนไม่ได้",
    "วิทยาศาสตร์และเทคโนโลยี": "นักเรียนตั้งสมมติฐานและออกแบบการทดลองไม่ได้",
    "ภาษาไทย": "นักเรียนอ่านจับใจความไม่ได้",
    "ภาษาต่างประเทศ": "นักเรียนไม่กล้าพูดสื่อสารภาษาอังกฤษ",
    "สังคมศึกษา ศาสนา และวัฒนธรรม": "นักเรียนเชื่อมโยงเหตุการณ์กับผลที่ตามมาไม่ได้",
}
# Made-up typical baseline (per cent) and gain per learning area, so that the achievement view has some shape.
AREA_PROFILE = {
    "คณิตศาสตร์": (42, 9),
    "วิทยาศาสตร์และเทคโนโลยี": (48, 7),
    "ภาษาไทย": (58, 5),
    "ภาษาต่างประเทศ": (39, 8),
    "สังคมศึกษา ศาสนา และวัฒนธรรม": (61, 4),
}
RUBRIC = ("evidence", "problem", "practice", "feedback", "next_steps")


class AlreadySeeded(Exception):
    """The platform already has this synthetic district; seeding twice would duplicate it."""


@dataclass
class SeedReport:
    district_id: int
    district_code: str
    rows: dict[str, int]
    leader_sub: str | None


class _Ids:
    """The next free id of each table, read once: the rows get their ids here, before they are inserted."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.next: dict[str, int] = {}

    def take(self, model: type[Base]) -> int:
        table = model.__table__
        assert isinstance(table, Table)
        if table.name not in self.next:
            self.next[table.name] = int(self.db.scalar(select(func.max(table.c.id))) or 0) + 1
        value = self.next[table.name]
        self.next[table.name] += 1
        return value


def seed_district(
    db: Session,
    platform: Platform,
    size: Size,
    *,
    today: date,
    leader_sub: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
    rng_seed: int = 8,
) -> SeedReport:
    """Create the synthetic district of `size` on the platform (in the caller's transaction)."""
    code = f"SYN-{size.name.upper()}"
    if db.scalar(select(District.id).where(District.platform_id == platform.id, District.code == code)):
        raise AlreadySeeded(f"the synthetic district {code} is already on {platform.issuer}; nothing was added")
    deployment = db.scalars(select(Deployment).where(Deployment.platform_id == platform.id)).first()
    if deployment is None:
        raise AlreadySeeded(f"{platform.issuer} has no deployment to hang the synthetic courses on")
    rng = random.Random(rng_seed)
    ids = _Ids(db)
    rows: dict[type[Base], list[dict[str, Any]]] = {}

    def add(model: type[Base], **values: Any) -> int:
        if "id" not in values and model not in (SessionAttendance, TeamMember, ProgramPlacement):
            values["id"] = ids.take(model)
        rows.setdefault(model, []).append(values)
        return int(values.get("id", 0))

    now = datetime.combine(today, time(9), tzinfo=UTC)
    district = District(
        platform_id=platform.id,
        code=code,
        name=f"สำนักงานเขตพื้นที่การศึกษาตัวอย่าง ({SYNTHETIC}, {size.name})",
        synthetic=True,
    )
    db.add(district)
    db.flush()

    # Networks and schools.
    networks: list[int] = []
    for n in range(size.networks):
        network = Network(
            district_id=district.id,
            code=f"N{n + 1:02d}",
            name=f"เครือข่าย{PLACES[n % len(PLACES)]}",
        )
        db.add(network)
        db.flush()
        networks.append(network.id)
    schools: list[tuple[int, int, str]] = []  # id, network id, name
    for s in range(size.schools):
        network_id = networks[s % len(networks)]
        place = PLACES[(s * 11) % len(PLACES)]  # 11 is prime to the 35 places: no repeats
        name = f"โรงเรียนบ้าน{place}" + (f" {s // len(PLACES) + 1}" if s >= len(PLACES) else "")
        school_id = add(School, district_id=district.id, network_id=network_id, code=f"S{s + 1:03d}", name=name)
        schools.append((school_id, network_id, name))
    _flush(db, rows, School)
    progress(f"{len(networks)} networks, {len(schools)} schools")

    # People: teachers spread over the schools; one supervisor (trainer) per network.
    teachers_at: dict[int, list[int]] = {school_id: [] for school_id, _, _ in schools}
    for t in range(size.teachers):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        person_id = add(
            Person,
            platform_id=platform.id,
            sub=f"syn-{size.name}-t{t + 1:05d}",
            name=f"{given} {family}",
            given_name=given,
            family_name=family,
            locale="th",
        )
        teachers_at[schools[t % len(schools)][0]].append(person_id)
    supervisors = {
        network_id: add(
            Person,
            platform_id=platform.id,
            sub=f"syn-{size.name}-s{i + 1:02d}",
            name=f"ศึกษานิเทศก์ {rng.choice(GIVEN)} {rng.choice(FAMILY)}",
            locale="th",
        )
        for i, network_id in enumerate(networks)
    }
    _flush(db, rows, Person)
    progress(f"{size.teachers} teachers")

    # Programs: one per school and year, with the school's teams for that year.
    teams_per_school_year = size.teams / (len(schools) * len(size.years))
    team_budget = size.teams
    for y_index, year in enumerate(size.years):
        for s_index, (school_id, network_id, school_name) in enumerate(schools):
            slots = len(size.years) * len(schools) - (y_index * len(schools) + s_index)
            wanted = max(1, round(team_budget / slots)) if team_budget > 0 else 0
            wanted = min(wanted, max(1, round(teams_per_school_year + rng.random())))
            if wanted <= 0:
                continue
            team_budget -= wanted
            _seed_program(
                add,
                rng,
                now=now,
                today=today,
                year=year,
                district_id=district.id,
                network_id=network_id,
                school_id=school_id,
                school_name=school_name,
                deployment_id=deployment.id,
                platform_id=platform.id,
                supervisor_id=supervisors[network_id],
                pool=teachers_at[school_id],
                teams=wanted,
                label=f"{size.name}-{year}-{s_index + 1:03d}",
            )
        progress(f"program year {buddhist_era(year)} generated")
    counted = {School.__tablename__: len(schools), Person.__tablename__: size.teachers + len(supervisors)}
    for model in (
        Context,
        Membership,
        Program,
        ProgramPlacement,
        Team,
        TeamMember,
        CycleAssignment,
        Cycle,
        FormEntry,
        ElementSession,
        SessionAttendance,
        Observation,
        Reflection,
        Grade,
        Assessment,
    ):
        counted[model.__tablename__] = _flush(db, rows, model)
        progress(f"{model.__tablename__}: {counted[model.__tablename__]} rows")
    _move_sequences(db, ids)
    if leader_sub:
        db.add(Leader(platform_id=platform.id, sub=leader_sub, district_id=district.id))
    db.flush()
    refresh_district(db, district)
    progress("dashboard figures refreshed")
    return SeedReport(district.id, code, counted, leader_sub)


def _flush(db: Session, rows: dict[type[Base], list[dict[str, Any]]], model: type[Base], chunk: int = 5000) -> int:
    batch = rows.pop(model, [])
    for start in range(0, len(batch), chunk):
        db.execute(insert(model), batch[start : start + chunk])
    return len(batch)


def _move_sequences(db: Session, ids: _Ids) -> None:
    """On PostgreSQL the ids came from here, not from the sequences: move each sequence past them."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for table in ids.next:
        db.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))")  # noqa: S608
        )


def _seed_program(
    add: Callable[..., int],
    rng: random.Random,
    *,
    now: datetime,
    today: date,
    year: int,
    district_id: int,
    network_id: int,
    school_id: int,
    school_name: str,
    deployment_id: int,
    platform_id: int,
    supervisor_id: int,
    pool: list[int],
    teams: int,
    label: str,
) -> None:
    area, grade = rng.choice(AREAS), rng.choice(GRADES)
    approved_on = date(year, 5, 1) + timedelta(days=rng.randrange(0, 45))
    last_day = last_day_of_program(approved_on)
    finished = last_day < today
    context_id = add(
        Context,
        platform_id=platform_id,
        deployment_id=deployment_id,
        context_id=f"syn-{label}",
        title=f"PLC {area} {grade} {school_name} ปี {buddhist_era(year)} ({SYNTHETIC})",
        label=f"PLC-{label}",
    )
    trainer = add(
        Membership,
        context_id=context_id,
        person_id=supervisor_id,
        lti_roles=[LIS + "Instructor"],
        app_role="trainer",
        last_launch_at=now,
    )
    sizes = [rng.randint(4, 8) for _ in range(teams)]
    planned = max(3, max(sizes))
    state = "certificates_requested" if finished and year < today.year - 1 else "ended" if finished else "running"
    ended_on = approved_on + timedelta(days=330) if finished else None
    program_id = add(
        Program,
        platform_id=platform_id,
        context_id=context_id,
        name=f"PLC {area} {grade} ปีการศึกษา {buddhist_era(year)}",
        agency="สำนักงานเขตพื้นที่การศึกษาตัวอย่าง",
        school_or_network=school_name,
        planned_cycles=planned,
        min_hours=Decimal(20),
        learning_area=area,
        grade_level=grade,
        state=state,
        approved_on=approved_on,
        started_on=approved_on + timedelta(days=7),
        ended_on=ended_on,
        certificates_requested_on=ended_on + timedelta(days=12) if ended_on and state != "ended" else None,
        created_at=datetime.combine(approved_on - timedelta(days=30), time(9), tzinfo=UTC),
    )
    add(ProgramPlacement, program_id=program_id, district_id=district_id, network_id=network_id, school_id=school_id)
    # Cycles take about five weeks each from the start; a running program is as far as today allows.
    days_so_far = (min(today, last_day) - approved_on).days - 7
    cycles_reached = planned if finished else max(0, min(planned, days_so_far // 35))
    for t_index, team_size in enumerate(sizes):
        chosen = [pool.pop() for _ in range(min(team_size, len(pool)))] if pool else []
        if len(chosen) < 2:
            continue
        members = [
            add(
                Membership,
                context_id=context_id,
                person_id=person_id,
                lti_roles=[LIS + "Learner"],
                app_role="teacher",
                last_launch_at=now,
            )
            for person_id in chosen
        ]
        team_id = add(Team, program_id=program_id, name=f"กลุ่ม PLC {t_index + 1}", facilitator_id=members[0])
        for membership_id in members:
            add(TeamMember, team_id=team_id, membership_id=membership_id)
            _assess(add, program_id, membership_id, finished, now)
        # Everyone is Model Teacher in turn; the others are Buddies.
        plan = {c: members[(c - 1) % len(members)] for c in range(1, planned + 1)}
        for number, model in plan.items():
            for membership_id in members:
                add(
                    CycleAssignment,
                    team_id=team_id,
                    cycle_number=number,
                    membership_id=membership_id,
                    role="model" if membership_id == model else "buddy",
                )
        engagement = rng.uniform(0.75, 1.0)  # how steadily this team works
        for number in range(1, cycles_reached + 1):
            start = approved_on + timedelta(days=7 + (number - 1) * 35)
            start_level, typical_gain = AREA_PROFILE[area]
            grade_step = GRADES.index(grade) - 4  # later grades start a little lower in this made-up district
            baseline = Decimal(max(10, min(90, round(rng.gauss(start_level - grade_step, 8)))))
            complete = rng.random() < engagement + 0.1
            gain = Decimal(round(rng.gauss(typical_gain * (0.6 + engagement * 0.5), 5)))
            cycle_id = add(
                Cycle,
                team_id=team_id,
                number=number,
                problem=PROBLEMS[area],
                learning_area=area,
                grade_level=grade,
                target_students=f"นักเรียนชั้น {grade} ที่คะแนนต่ำกว่าร้อยละ 50",
                measure="ร้อยละของนักเรียนที่ผ่านเกณฑ์แบบทดสอบของวงรอบ",
                measure_kind="percent_reaching",
                pupils=rng.randint(12, 40),
                baseline="คะแนนเฉลี่ยแบบทดสอบก่อนเรียน (ร้อยละ)",
                baseline_value=baseline,
                result="คะแนนเฉลี่ยแบบทดสอบหลังเรียน (ร้อยละ)" if complete else "",
                result_value=max(Decimal(0), min(Decimal(100), baseline + gain)) if complete else None,
            )
            elements = (1, 2, 3, 4, 5) if complete else (1, 2, 3)
            for element in elements:
                held_on = min(start + timedelta(days=element * 5), today)
                session_id = add(
                    ElementSession,
                    cycle_id=cycle_id,
                    element=element,
                    held_on=held_on,
                    hours=Decimal(rng.choice((1, 1.5, 2, 2, 2.5, 3))),
                    notes="บันทึกการประชุม (ข้อมูลสังเคราะห์)",
                    created_by_id=members[0],
                )
                for membership_id in members:
                    if rng.random() < engagement + 0.15:
                        add(SessionAttendance, session_id=session_id, membership_id=membership_id)
            if not complete:
                continue
            written = datetime.combine(start + timedelta(days=28), time(15), tzinfo=UTC)
            if cycle_id % 9:  # most teams send their results report; the goal is met when scores rose 5 points or more
                met = gain >= 5
                add(
                    FormEntry,
                    cycle_id=cycle_id,
                    form=RESULTS_FORM,
                    answers={
                        "summary": f"คะแนนเฉลี่ยเปลี่ยนไป {gain} จุดจากก่อนเรียน (ข้อมูลสังเคราะห์)",
                        GOAL_FIELD: GOAL_MET if met else GOAL_NOT_MET,
                        IMPROVEMENTS_FIELD: "" if met else "ปรับกิจกรรมให้นักเรียนได้ฝึกมากขึ้นในวงรอบถัดไป (ข้อมูลสังเคราะห์)",
                    },
                    updated_by_id=members[0],
                    created_at=written,
                    updated_at=written,
                )
            for membership_id in members:
                if membership_id != plan[number] and rng.random() < engagement + 0.1:
                    add(
                        Observation,
                        cycle_id=cycle_id,
                        buddy_id=membership_id,
                        model_id=plan[number],
                        lesson=f"{area} {grade}: บทเรียนที่ออกแบบร่วมกัน",
                        students_did="นักเรียนทำกิจกรรมกลุ่มและนำเสนอ",
                        students_learned="นักเรียนอธิบายวิธีคิดของตนได้",
                        student_notes=[],
                        suggestions="เพิ่มเวลาให้นักเรียนอภิปราย",
                        submitted_at=written,
                    )
                if rng.random() < engagement + 0.1:
                    reflection_id = add(
                        Reflection,
                        cycle_id=cycle_id,
                        membership_id=membership_id,
                        text="สิ่งที่ได้เรียนรู้จากวงรอบนี้ และสิ่งที่จะปรับในวงรอบถัดไป (ข้อมูลสังเคราะห์)",
                        submitted_at=written,
                    )
                    if rng.random() < 0.85:
                        scores = {criterion: rng.randint(2, 4) for criterion in RUBRIC}
                        add(
                            Grade,
                            reflection_id=reflection_id,
                            grader_id=trainer,
                            rubric_id="reflection-v1",
                            scores=scores,
                            total=Decimal(sum(scores.values())),
                            max_score=Decimal(20),
                            comment="",
                            graded_at=written + timedelta(days=3),
                        )


def _assess(add: Callable[..., int], program_id: int, membership_id: int, finished: bool, now: datetime) -> None:
    """A teacher's self-assessment on the default targets at the start and, once the program has ended, at its end
    (levels 1 to 3, then up to two levels higher). Its own random stream, so the other synthetic rows stay as they were."""
    levels = random.Random(membership_id)
    scale = assessment_scale()
    for code in default_target_competencies():
        start = levels.randint(scale.minimum, scale.minimum + 2)
        phases = [(Phase.START, start)] + (
            [(Phase.END, min(scale.maximum, start + levels.randint(0, 2)))] if finished else []
        )
        for phase, level in phases:
            add(
                Assessment, program_id=program_id, membership_id=membership_id, rater_id=membership_id,
                rater_kind=RaterKind.SELF, phase=phase, competency=code, level=level, scale_id=scale.id,
                assessed_at=now,
            )  # fmt: skip
