"""The demo LMS's second course: a finished example program (synthetic data), so that a newcomer can issue
certificates, download the results report and verify a certificate at once instead of clicking through three cycles.

The program is built once, with past dates computed from today's clock, through the use cases the pages call
(lti_tool/services/: the program's steps, its team, sessions, tracking forms, observations and reflections with their
learning records, and a grade's score for the gradebook); only what no page changes on its own (the team's
facilitator, the cycle's target and result, the scores closed unsent) goes to the domain functions directly. The
dates keep the Council's rules whenever the demo starts: approved about ten months ago, four cycles inside the program
year, ended five days ago (the 30-day certificate window is open). Its learning records go to the outbox through
xapi/events.py like any other. Its grades' scores are closed unsent by the LMS's site administrator, with the reason:
the demo LMS keeps a gradebook for its first course only, and a score with nowhere to go would otherwise be parked as
failed at the first start of each instance, for the administrator to look into.

Three teachers finish four complete cycles in both roles and are eligible; the fourth was away for part of cycles 2
and 3 and is not (too few complete cycles and hours), so the certificates page shows both.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.services import competencies, cycles, observations, programs, reflections, sessions, teams
from lti_tool.services.actor import Actor
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.settings import Settings
from models.assessments import Phase, targets
from models.base import utcnow
from models.calendar import THAI_TIME, program_day
from models.cycles import CycleTarget, open_cycle, record_cycle_result, set_cycle_target
from models.database import get_or_create
from models.evidence import FolderStore
from models.measures import PERCENT_REACHING
from models.observations import ObservationForm
from models.people import Context, Membership, Person
from models.plan import team_plan
from models.platform import Deployment, Platform
from models.programs import Program, ProgramDetails
from models.roles import app_role_for
from models.rubrics import rubric
from models.scope import CourseScope, scoped
from models.scores import dismiss_unsendable
from models.sessions import AppSession
from models.teams import set_facilitator

TEAM = ("demo-teacher-1", "demo-teacher-2", "demo-teacher-3", "demo-teacher-4")
AWAY = "demo-teacher-4"  # away for the third element of cycles 2 and 3: the one teacher not eligible
TRAINER = "demo-trainer-1"
# The LMS's site administrator closes the example's scores, with this reason: the demo LMS keeps a gradebook for its
# first course only, and the example's grades have nowhere to go in it.
SITE_ADMIN = "demo-siteadmin-1"
NO_GRADEBOOK = (
    "ข้อมูลตัวอย่าง (สมมติ): รายวิชาตัวอย่างนี้ไม่มีสมุดคะแนนใน LMS สาธิต จึงไม่ได้ส่งคะแนน"
    " · Synthetic example: this course has no gradebook in the demo LMS, so its scores are not sent."
)
CYCLES = 4
# Element → (days after the cycle opens, hours): 12 hours a cycle, 48 for the program.
SCHEDULE = {1: (0, Decimal(2)), 2: (7, Decimal(3)), 3: (14, Decimal(3)), 4: (21, Decimal(2)), 5: (28, Decimal(2))}
CYCLE_GAP_DAYS = 65
PROBLEMS = (
    "นักเรียนแก้โจทย์ปัญหาเศษส่วนไม่ได้ เพราะแปลงโจทย์เป็นประโยคสัญลักษณ์ไม่ถูก",
    "นักเรียนสับสนเรื่องการบวกลบจำนวนเต็มบวกและลบ",
    "นักเรียนหาพื้นที่ผิวของปริซึมโดยลืมบางหน้า",
    "นักเรียนแก้สมการเชิงเส้นตัวแปรเดียวแล้วย้ายข้างผิดเครื่องหมาย",
)


def _course_rows(db: Session, platform: Platform, deployment: Deployment, course: Any) -> dict[str, Membership]:
    """The example course, its people and their memberships, keyed as a launch keys them (issuer + sub, deployment +
    context id), so that a later launch of the same person finds and updates these rows."""
    context: Context = get_or_create(
        db, Context, {"platform_id": platform.id, "deployment_id": deployment.id, "context_id": course.id}
    )
    context.title, context.label = course.title, course.label
    members: dict[str, Membership] = {}
    for demo_person in course.people:
        person: Person = get_or_create(db, Person, {"platform_id": platform.id, "sub": demo_person.sub})
        person.name = person.name or demo_person.name
        person.given_name = person.given_name or demo_person.given_name
        person.family_name = person.family_name or demo_person.family_name
        person.email = person.email or demo_person.email
        person.locale = person.locale or "th"
        role = app_role_for(demo_person.roles)
        assert role is not None  # the demo people's roles all map
        members[demo_person.sub] = get_or_create(
            db,
            Membership,
            {"context_id": context.id, "person_id": person.id},
            app_role=role.value,
            lti_roles=list(demo_person.roles),
        )
    return members


def _acting_as(member: Membership) -> Actor:
    """The use cases' actor for a demo person: the example is built without a launch, so without a stored app session;
    this one is never added to the database."""
    return Actor(
        AppSession(
            person=member.person,
            person_id=member.person_id,
            context=member.context,
            context_id=member.context_id,
            membership=member,
            membership_id=member.id,
        )
    )


def _at(day: date, hour: int) -> datetime:
    """A moment of a Thai day, as an aware datetime."""
    return datetime.combine(day, time(hour, 0), tzinfo=THAI_TIME)


def ensure_example(db: Session, settings: Settings, platform: Platform, deployment: Deployment, course: Any) -> bool:
    """Build the finished example program of `course` unless the course has a program already; True when built."""
    members = _course_rows(db, platform, deployment, course)
    scope = CourseScope(platform.id, members[TRAINER].context_id)
    if db.scalars(scoped(Program, scope).limit(1)).first() is not None:
        return False
    _build(db, settings, scope, members)
    return True


def _build(db: Session, settings: Settings, scope: CourseScope, members: dict[str, Membership]) -> None:
    today = program_day(utcnow())
    approved_on = today - timedelta(days=300)
    started_on = approved_on + timedelta(days=7)
    ended_on = today - timedelta(days=5)
    trainer = members[TRAINER]
    acting = {m.id: _acting_as(m) for m in members.values()}
    organiser = acting[trainer.id]
    program = programs.save_program(
        db,
        organiser,
        ProgramDetails(
            name="PLC คณิตศาสตร์ ม.1 ปีการศึกษา 2569 (ข้อมูลสมมติ · synthetic example)",
            agency="สำนักงานเขตพื้นที่การศึกษาตัวอย่าง (ข้อมูลสมมติ)",
            school_or_network="โรงเรียนบ้านหนองบัว (ข้อมูลสมมติ)",
            planned_cycles=CYCLES,
            min_hours=Decimal(45),
            learning_area="คณิตศาสตร์",
            grade_level="ม.1",
        ),
    )
    ids = [members[sub].id for sub in TEAM]
    formed = teams.form_team(db, organiser, program, "กลุ่มคณิตศาสตร์ ม.1 (ตัวอย่าง)", ids)
    assert formed.unplanned is None  # four teachers, four cycles: everyone plays both roles
    team = formed.team
    set_facilitator(db, team, trainer.id)
    programs.submit_program(db, organiser, program, today=approved_on)  # sent before the example was set up
    programs.approve_program(db, organiser, program, "ศธ 0000/ตัวอย่าง (ข้อมูลสมมติ)", approved_on, today=approved_on)
    programs.start_program(organiser, program, today=started_on)
    # Each teacher's self-assessment on the program's target competencies at its start (levels made up).
    baseline = {m: {code: 1 + (i + n) % 3 for n, code in enumerate(targets(program))} for i, m in enumerate(ids)}
    for membership_id in ids:
        competencies.assess_self(
            db, settings, acting[membership_id], Phase.START, baseline[membership_id], now=_at(started_on, 9)
        )

    away = members[AWAY].id
    chosen = rubric()
    graded: list[int] = []
    no_files = EvidenceFiles(FolderStore(Path(settings.evidence_path or ".")))  # the example's records carry no files
    for number in range(1, CYCLES + 1):
        opens = started_on + timedelta(days=14 + CYCLE_GAP_DAYS * (number - 1))
        model_id, buddy_ids = team_plan(team)[number]
        cycle = open_cycle(db, team, number, opens)
        set_cycle_target(
            cycle,
            CycleTarget(
                problem=PROBLEMS[number - 1],
                learning_area="คณิตศาสตร์",
                grade_level="ม.1",
                target_students="นักเรียน ม.1/1–1/3 (ข้อมูลสมมติ)",
                baseline="ร้อยละของนักเรียนที่ทำแบบทดสอบก่อนเรียนผ่านเกณฑ์",
                baseline_value=Decimal(40 + 5 * number),
                measure="ร้อยละของนักเรียนที่ทำแบบทดสอบเศษส่วนผ่านเกณฑ์ร้อยละ 60",
                measure_kind=PERCENT_REACHING,
                pupils=96,
            ),
            opens,
        )
        for element, (offset, hours) in SCHEDULE.items():
            held_on = opens + timedelta(days=offset)
            missing = number in (2, 3) and element == 3
            present = [m for m in ids if not (missing and m == away)]
            entry = sessions.SessionEntry(number, element, held_on, hours, present, "บันทึกตัวอย่าง (ข้อมูลสมมติ)")
            sessions.record_session(db, settings, organiser, team, entry, [], no_files, today=held_on)
            if element == 2:
                answers = _problem_form(number, held_on)
                cycles.save_tracking_form(db, organiser, team, number, "problem-reflection", answers, today=held_on)
            if element == 4:
                answers = _tracking_form(held_on)
                cycles.save_tracking_form(db, organiser, team, number, "operation-tracking", answers, today=held_on)
                for buddy_id in buddy_ids:
                    if buddy_id == away and number in (2, 3):
                        continue  # away: no observation either
                    observations.submit_observation(
                        db, settings, acting[buddy_id], number, _observation(number), [], no_files,
                        now=_at(held_on, 15),
                    )  # fmt: skip
            if element == 5:
                answers = _results_form(number)
                cycles.save_tracking_form(db, organiser, team, number, "results-report", answers, today=held_on)
                record_cycle_result(cycle, "นักเรียนผ่านเกณฑ์มากขึ้นหลังบทเรียนที่ออกแบบร่วมกัน", Decimal(60 + 5 * number), held_on)
        reflected_on = opens + timedelta(days=30)
        for membership_id in ids:
            if membership_id == away and number == 3:
                continue
            reflection = reflections.write_reflection(
                db, settings, acting[membership_id], team, number, _reflection(number, membership_id == model_id),
                now=_at(reflected_on, 19),
            )  # fmt: skip
            scores = {c.id: 3 + (i + number + membership_id) % 2 for i, c in enumerate(chosen.criteria)}
            grade = reflections.grade_reflection(
                db, settings, acting[trainer.id], reflection.id, scores, "ความเห็นตัวอย่างของผู้ฝึกอบรม (ข้อมูลสมมติ)",
                now=_at(reflected_on + timedelta(days=3), 10),
            )  # fmt: skip
            graded.append(grade.id)
    programs.end_program(organiser, program, today=ended_on)
    dismiss_unsendable(db, graded, members[SITE_ADMIN].person_id, NO_GRADEBOOK, utcnow())  # as the example is built
    for i, membership_id in enumerate(ids):  # and again at its end, all but the teacher who was away
        if membership_id != away:
            grown = {code: min(5, level + 1 + i % 2) for code, level in baseline[membership_id].items()}
            competencies.assess_self(db, settings, acting[membership_id], Phase.END, grown, now=_at(ended_on, 16))
    db.flush()


def _problem_form(number: int, held_on: date) -> dict[str, str]:
    return {
        "problem": PROBLEMS[number - 1],
        "causes": "นักเรียนอ่านโจทย์ไม่ครบและไม่ได้วาดภาพประกอบ (ตัวอย่าง)",
        "approaches": "ใช้แถบเศษส่วน บัตรคำถาม และให้นักเรียนอธิบายวิธีคิดเป็นคู่ (ตัวอย่าง)",
        "plan": "ครูผู้สอนสอนบทเรียนที่ออกแบบร่วมกัน ครูร่วมการเรียนรู้สังเกตนักเรียนกลุ่มเป้าหมาย (ตัวอย่าง)",
        "lesson_date": (held_on + timedelta(days=14)).isoformat(),
    }


def _tracking_form(held_on: date) -> dict[str, str]:
    return {
        "taught_on": held_on.isoformat(),
        "activities": "นักเรียนทำกิจกรรมกลุ่มและนำเสนอวิธีคิด (ตัวอย่าง)",
        "what_worked": "การให้นักเรียนวาดภาพก่อนเขียนประโยคสัญลักษณ์ (ตัวอย่าง)",
    }


def _results_form(number: int) -> dict[str, str]:
    if number == 2:  # one cycle misses its goal, so the next one starts from what the team will improve
        return {
            "summary": "นักเรียนผ่านเกณฑ์เพิ่มจากร้อยละ 50 เป็นร้อยละ 58 ยังต่ำกว่าเป้าหมายร้อยละ 70 (ข้อมูลสมมติ)",
            "goal_met": "not_met",
            "lessons_learned": "นักเรียนเข้าใจเส้นจำนวนแต่ยังสลับเครื่องหมายเมื่อลบจำนวนลบ (ตัวอย่าง)",
            "improvements": "ใช้บัตรสีแทนจำนวนบวกและลบ ให้นักเรียนจับคู่อธิบายทุกข้อ และทดสอบย่อยท้ายคาบ (ตัวอย่าง)",
        }
    return {
        "summary": f"นักเรียนผ่านเกณฑ์เพิ่มจากร้อยละ {40 + 5 * number} เป็นร้อยละ {60 + 5 * number} (ข้อมูลสมมติ)",
        "goal_met": "met",
        "lessons_learned": "การสังเกตนักเรียนรายคนช่วยให้เห็นจุดที่ต้องปรับ (ตัวอย่าง)",
    }


def _observation(number: int) -> ObservationForm:
    return ObservationForm(
        lesson=f"บทเรียนวงรอบ {number} (ตัวอย่าง)",
        students_did="นักเรียนทำงานเป็นคู่และอธิบายวิธีคิดให้เพื่อนฟัง (ตัวอย่าง)",
        students_learned="นักเรียนส่วนใหญ่เขียนประโยคสัญลักษณ์ได้ถูกต้อง (ตัวอย่าง)",
        suggestions="ให้เวลานักเรียนกลุ่มอ่อนมากขึ้น (ตัวอย่าง)",
    )


def _reflection(number: int, model: bool) -> str:
    role = "ครูผู้สอน" if model else "ครูร่วมการเรียนรู้"
    return (
        f"การสะท้อนผลวงรอบ {number} ในบทบาท{role}: นักเรียนเข้าใจมากขึ้นเมื่อได้อธิบายวิธีคิด "
        "วงรอบหน้าจะเพิ่มคำถามกระตุ้นการคิด (ข้อความตัวอย่าง ข้อมูลสมมติ)"
    )
