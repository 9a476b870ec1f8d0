"""The demo LMS at /demo: a small course whose people launch PLC Bridge through a real LTI 1.3 launch.

It is a separate platform built on the independently written `lti1p3platform` library, with its own RSA key
(in the instance folder), its own JWKS URL and its own registration row; the tool validates its launches
exactly as it validates Moodle's. Production settings refuse to start with it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.demo_lms import advantage as demo_advantage
from lti_tool.demo_lms import example_course as demo_example
from lti_tool.demo_lms import gradebook as demo_gradebook
from lti_tool.demo_lms.lti_platform import FlaskRequest, PlatformKey, registration
from lti_tool.lti.tool_config import find_platform
from lti_tool.settings import Settings
from lti_tool.web.session import database
from models.database import Database
from models.keys import generate_key
from models.platform import Deployment, Platform

CLIENT_ID = "plc-bridge-demo"
DEPLOYMENT_ID = "demo-deployment-1"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LIS_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
LIS_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

bp = Blueprint("demo", __name__, url_prefix="/demo")


@dataclass(frozen=True)
class DemoPerson:
    sub: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    role_label: Any
    school: str = "โรงเรียนบ้านหนองบัว"

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class DemoCourse:
    id: str = "demo-course-sci-m2"
    label: str = "PLC-SCI-M2"
    title: str = "ชุมชนการเรียนรู้ทางวิชาชีพ วิทยาศาสตร์ ม.2 (สาธิต)"
    resource_link_id: str = "demo-link-plc-cycle"
    resource_link_title: str = "วงรอบ PLC ที่ 1"
    people: tuple[DemoPerson, ...] = field(default_factory=tuple)


TEACHER = _l("Teacher (Learner)")
TRAINER = _l("Trainer (Instructor)")
ADMIN = _l("School administrator (institution Administrator)")
SITE_ADMIN = _l("Site administrator (system Administrator)")

COURSE = DemoCourse(
    people=(
        DemoPerson("demo-teacher-1", "สมศรี", "ใจดี", "somsri@demo.plc-bridge.invalid", (LIS + "Learner",), TEACHER),
        DemoPerson("demo-teacher-2", "ประยุทธ", "แก้วมณี", "prayut@demo.plc-bridge.invalid", (LIS + "Learner",), TEACHER),
        DemoPerson(
            "demo-teacher-3", "วิไลวรรณ", "ศรีสุข", "wilaiwan@demo.plc-bridge.invalid", (LIS + "Learner",), TEACHER
        ),
        DemoPerson("demo-teacher-4", "ณัฐพล", "บุญมา", "nattapon@demo.plc-bridge.invalid", (LIS + "Learner",), TEACHER),
        DemoPerson(
            "demo-trainer-1", "กาญจนา", "ทองคำ", "kanjana@demo.plc-bridge.invalid", (LIS + "Instructor",), TRAINER
        ),
        DemoPerson(
            "demo-admin-1",
            "ธีรวัฒน์",
            "พงษ์ไทย",
            "teerawat@demo.plc-bridge.invalid",
            (LIS_INSTITUTION + "Administrator", LIS + "Instructor"),
            ADMIN,
        ),
        # The LMS's site administrator, with the roles Moodle sends for one: sees the platform's queues (/admin).
        DemoPerson(
            "demo-siteadmin-1",
            "อรุณี",
            "ศรีวงศ์",
            "arunee@demo.plc-bridge.invalid",
            (LIS_SYSTEM + "Administrator", LIS_INSTITUTION + "Administrator", LIS + "Instructor"),
            SITE_ADMIN,
        ),
    )
)


# The second course: a program that ended five days ago, built once from synthetic data (lti_tool/demo_lms/example_course.py),
# where certificates and the results report can be tried at once.
EXAMPLE = DemoCourse(
    id="demo-course-math-m1-finished",
    label="PLC-MATH-M1-EX",
    title="PLC คณิตศาสตร์ ม.1 ปีการศึกษา 2569 (ตัวอย่างที่จบแล้ว ข้อมูลสมมติ)",
    resource_link_id="demo-link-plc-finished",
    resource_link_title="โปรแกรม PLC ที่จบแล้ว (ตัวอย่าง)",
    people=COURSE.people,
)
COURSES = {"": COURSE, "example": EXAMPLE}


def _person(sub: str) -> DemoPerson | None:
    return next((p for p in COURSE.people if p.sub == sub), None)


def _ensure_example(db: Session, settings: Settings, client_id: str, deployment_id: str) -> None:
    """The example course's finished program, for the registration the demo launches with (built only once)."""
    platform = find_platform(db, issuer(settings), client_id)
    if platform is None:
        return
    deployment = next((d for d in platform.deployments if d.deployment_id == deployment_id), None)
    if deployment is not None:
        demo_example.ensure_example(db, settings, platform, deployment, EXAMPLE)


def _settings() -> Settings:
    value: Settings = current_app.extensions["plc_settings"]
    return value


def issuer(settings: Settings) -> str:
    return settings.public_base_url + "/demo"


def _key_path(settings: Settings) -> Path:
    return settings.instance_path / "demo-platform-key.pem"


def _private_key_pem(settings: Settings) -> str:
    path = _key_path(settings)
    if not path.exists():
        path.write_text(generate_key().private_pem)
        path.chmod(0o600)
    return path.read_text()


def init_app(app: Flask, database: Database, settings: Settings) -> None:
    """Serve the demo LMS at /demo, with its registration in the tool and its example course in place."""
    app.register_blueprint(bp)
    with database.transaction() as db:
        ensure_registration(db, settings)


def ensure_registration(db: Session, settings: Settings) -> Platform:
    """The tool-side registration row of the demo platform, created on first start."""
    iss = issuer(settings)
    platform = db.scalars(select(Platform).where(Platform.issuer == iss, Platform.client_id == CLIENT_ID)).first()
    if platform is None:
        platform = Platform(issuer=iss, client_id=CLIENT_ID, name="PLC Bridge demo LMS")
        db.add(platform)
    platform.auth_login_url = iss + "/auth"
    platform.auth_token_url = iss + "/token"
    platform.key_set_url = iss + "/jwks"
    db.flush()
    if not any(d.deployment_id == DEPLOYMENT_ID for d in platform.deployments):
        platform.deployments.append(Deployment(deployment_id=DEPLOYMENT_ID, note="demo LMS"))
    _private_key_pem(settings)
    db.flush()
    _ensure_example(db, settings, CLIENT_ID, DEPLOYMENT_ID)
    return platform


# --- lti1p3platform glue ------------------------------------------------------------------------------


class _DemoPlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    def init_platform_config(self, **kwargs: Any) -> None:
        self.settings: Settings = kwargs["settings"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        settings = self.settings
        tool = demo_advantage.course_tool(settings, CLIENT_ID, DEPLOYMENT_ID)
        key = PlatformKey.from_private_pem(_private_key_pem(settings))
        return registration(
            key, issuer(settings), tool.client_id, tool.deployment_id, tool.login_url, tool.launch_url, tool.jwks_url
        )


class _DemoMessageLaunch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return render_template("demo/launch_form.html", **launch_data)


def _hint_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(_settings().secret_key, salt="demo-lti-message-hint")


# --- Pages and endpoints -----------------------------------------------------------------------------


@bp.get("/")
def course() -> str:
    settings = _settings()
    return render_template(
        "demo/course.html",
        course=COURSE,
        example=EXAMPLE,
        selected=request.args.get("as"),
        activities=demo_advantage.activities(settings),
        tool=demo_advantage.course_tool(settings, CLIENT_ID, DEPLOYMENT_ID),
    )


def _login(sub: str, hint: dict[str, Any]) -> Response:
    """Third-party initiated login (LTI 1.3 §5.1.1): send the browser to the tool's login URL."""
    settings = _settings()
    tool = demo_advantage.course_tool(settings, CLIENT_ID, DEPLOYMENT_ID)
    params = {
        "iss": issuer(settings),
        "login_hint": sub,
        "target_link_uri": tool.launch_url,
        "lti_message_hint": _hint_serializer().dumps({"sub": sub, **hint}),
        "client_id": tool.client_id,
        "lti_deployment_id": tool.deployment_id,
    }
    return redirect(tool.login_url + "?" + urlencode(params), code=302)


@bp.get("/launch/<sub>")
def initiate(sub: str) -> Response:
    """Launch the course's PLC Bridge link, or (?activity=…) an activity added by Deep Linking, or (?course=example)
    the link of the finished example course."""
    if _person(sub) is None:
        abort(404)
    course_key = request.args.get("course", "")
    if course_key not in COURSES:
        abort(404)
    activity_id = request.args.get("activity")
    if activity_id and (course_key or demo_advantage.find_activity(_settings(), activity_id) is None):
        abort(404)
    if course_key:  # a tool registered since start-up (Dynamic Registration) gets its own copy of the example
        tool = demo_advantage.course_tool(_settings(), CLIENT_ID, DEPLOYMENT_ID)
        with database().transaction() as db:
            _ensure_example(db, _settings(), tool.client_id, tool.deployment_id)
    return _login(sub, {"link": COURSES[course_key].resource_link_id, "activity": activity_id, "course": course_key})


@bp.get("/deep-link/<sub>")
def deep_link(sub: str) -> Response:
    """The course editor's "Add an activity": a Deep Linking request to the course's tool."""
    if _person(sub) is None:
        abort(404)
    return _login(sub, {"dl": True})


@bp.route("/auth", methods=["GET", "POST"])
def authorize() -> Any:
    """The platform's OIDC authorization endpoint: check the tool's request, sign the id_token, post it back."""
    params = request.values
    person = _person(params.get("login_hint", ""))
    try:
        hint = _hint_serializer().loads(params.get("lti_message_hint", ""))
    except BadSignature:
        hint = None
    if person is None or not isinstance(hint, dict) or hint.get("sub") != person.sub:
        abort(400, description="The login hint does not name a person of this demo course.")
    if params.get("response_type") != "id_token" or params.get("scope") != "openid":
        abort(400, description="Only response_type=id_token with scope=openid is supported.")
    tool = demo_advantage.course_tool(_settings(), CLIENT_ID, DEPLOYMENT_ID)
    course = COURSES.get(str(hint.get("course") or ""), COURSE)
    if params.get("redirect_uri") != tool.launch_url:
        abort(400, description="The redirect_uri is not the one registered for this tool.")

    config = _DemoPlatformConf(settings=_settings())
    message = _DemoMessageLaunch(FlaskRequest(request), config)
    message.set_user_data(
        person.sub, list(person.roles), full_name=person.name, email_address=person.email, preferred_username=person.sub
    )
    activity = demo_advantage.find_activity(_settings(), hint.get("activity"))
    if hint.get("dl"):
        message.set_dl(
            issuer(_settings()) + "/deep-link-return",
            title=COURSE.title,
            accept_types={"ltiResourceLink"},
            extra_data={"course": COURSE.id},
        )
    elif activity is not None:
        message.set_resource_link_claim(activity.id, title=activity.title)
    else:
        message.set_resource_link_claim(course.resource_link_id, title=course.resource_link_title)
    message.set_launch_context_claim(
        course.id,
        context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection"],
        context_title=course.title,
        context_label=course.label,
    )
    message.set_launch_presentation_claim(document_target="iframe", return_url=issuer(_settings()) + "/")
    message.set_custom_parameters_claim(dict(activity.custom) if activity else {"activity": "landing"})
    message.set_extra_claims(
        {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                "guid": "plc-bridge-demo",
                "name": "PLC Bridge demo LMS",
                "product_family_code": "plc-bridge-demo",
            },
            "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
                "document_target": "iframe",
                "return_url": issuer(_settings()) + "/",
                "locale": "th",
            },
        }
    )
    if not hint.get("dl") and course is COURSE:  # the gradebook (AGS) and roster (NRPS) of the first course only
        link_id = activity.id if activity is not None else COURSE.resource_link_id
        declared = activity.line_item if activity is not None else None
        message.set_extra_claims(demo_gradebook.launch_claims(issuer(_settings()), link_id, declared))
    return message.lti_launch()


@bp.get("/jwks")
def platform_jwks() -> Response:
    config = _DemoPlatformConf(settings=_settings())
    config.get_registration()
    return jsonify(config.get_jwks())


demo_advantage.init_routes(bp, issuer, _DemoPlatformConf, (CLIENT_ID, DEPLOYMENT_ID))
demo_gradebook.init_routes(bp, issuer, _DemoPlatformConf, COURSE)
