"""The person's notices: the list (newest first, unread marked, each linking to the page it is about), opening one,
which kinds reach them by LINE and e-mail, and linking their LINE account. A notice's link in a LINE message or an
e-mail opens the page only in a browser with the person's own session from a launch; anywhere else it says to open
PLC Bridge from the course in the LMS, and shows nothing of the notice."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from lti_tool.channels import wording
from lti_tool.documents.pdf import qr_image
from lti_tool.services import line_linking
from lti_tool.services import notices as service
from lti_tool.services.actor import Actor
from lti_tool.web import confirm
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.session import csrf_token, current_session, database, require_session, session_url, settings
from models.errors import NotFoundInCourse
from models.notices import Notice

bp = Blueprint("notices", __name__)

READ_ALL = "notices-read-all"
PREFERENCES = "notice-preferences"
LINE_CODE = "line-code"
LINE_UNLINK = "line-unlink-confirmed"  # given by the confirmation page only


def worded(notice: Notice) -> wording.Wording:
    verify = settings().public_base_url + "/verify/" + str(notice.params.get("code", ""))
    locale = str(get_locale() or "th")
    return wording.word(notice.kind, notice.params, get_translations(), verify_url=verify, locale=locale)


def target_url(notice: Notice) -> str | None:
    if not notice.endpoint:
        return None
    try:
        return session_url(notice.endpoint, **notice.endpoint_args)
    except BuildError:
        return None


@bp.get("/notices")
def list_notices() -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        actor = Actor(app_session)
        listed = service.my_notices(db, actor)
        return render_template(
            "notices/list.html",
            notices=[(n, worded(n)) for n in listed],
            unread=sum(1 for n in listed if n.read_at is None),
            csrf=csrf_token(app_session, READ_ALL),
            marked=request.args.get("marked") == "1",
            session_url=session_url,
        )


@bp.post("/notices/read")
def read_all() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        PlcForm.posted(app_session, READ_ALL)
        service.read_all(db, Actor(app_session))
    return redirect(session_url("notices.list_notices", marked="1"), code=303)


@bp.get("/notices/<int:notice_id>")
def open_notice(notice_id: int) -> Response | tuple[str, int]:
    """From the list, a LINE message or an e-mail: with the person's own session, their notice is marked read and
    its page opens; without one, a page that says to open PLC Bridge from the course (the notice is not even looked up)."""
    with database().transaction() as db:
        app_session = current_session(db)
        if app_session is None:  # the same page for every number, looked up or not: nothing to probe
            return render_template("notices/open_from_lms.html"), 200
        try:
            notice = service.open_notice(db, Actor(app_session), notice_id)
        except NotFoundInCourse:
            abort(404, description=_("This notice is not yours, or it is gone."))
        except service.NoticeOfAnotherCourse as other:
            return render_template(
                "notices/other_course.html", course_title=other.course_title, session_url=session_url
            ), 200
        destination = target_url(notice)
    return redirect(destination or session_url("notices.list_notices"), code=303)


@bp.get("/notices/settings")
def preferences_page() -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        actor = Actor(app_session)
        page = line_linking.linking_page(db, actor, with_code=False)
        return render_template(
            "notices/preferences.html",
            preferences=service.preferences(db, actor),
            titles=wording.TITLES,
            line_on=page.account is not None,
            line_linked=page.link is not None,
            email=app_session.person.email,
            csrf=csrf_token(app_session, PREFERENCES),
            saved=request.args.get("saved") == "1",
            session_url=session_url,
        )


@bp.post("/notices/settings")
def save_preferences() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        PlcForm.posted(app_session, PREFERENCES)
        service.save_preferences(db, Actor(app_session), set(request.form.getlist("kind")))
    return redirect(session_url("notices.preferences_page", saved="1"), code=303)


def _line_page(new_code: bool = False, did: str = "") -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        page = line_linking.linking_page(db, Actor(app_session), new_code=new_code)
        add_friend = page.account.add_friend_url if page.account is not None else None
        values: dict[str, Any] = {
            "page": page,
            "qr": qr_image(add_friend, scale=5) if add_friend else None,
            "add_friend": add_friend,
            "unlink_word": "เลิกแจ้งเตือน",
            "csrf_code": csrf_token(app_session, LINE_CODE),
            "did": did,
            "session_url": session_url,
        }
        return render_template("notices/line.html", **values)


@bp.get("/notices/line")
def line_page() -> str:
    return _line_page(did=request.args.get("did", ""))


@bp.post("/notices/line/code")
def line_code() -> str:
    with database().transaction() as db:
        PlcForm.posted(require_session(db), LINE_CODE)
    return _line_page(new_code=True, did="code")


@bp.get("/notices/line/unlink")
def confirm_unlink() -> tuple[str, int]:
    """Unlinking asks first; reading this page changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        return confirm.render(
            confirm.Confirmation(
                title=_("Unlink your LINE account?"),
                follows=[
                    _("PLC Bridge forgets your LINE id: no more notices reach you in LINE."),
                    _("Your notices stay in the notice list, and by e-mail if your LMS shares your address."),
                    _("To receive them in LINE again, you link again with a new code."),
                ],
                action=session_url("notices.line_unlink"),
                csrf=csrf_token(app_session, LINE_UNLINK),
                button=_("Unlink my LINE account"),
                back=session_url("notices.line_page"),
            )
        )


@bp.post("/notices/line/unlink")
def line_unlink() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        PlcForm.posted(app_session, LINE_UNLINK)
        line_linking.unlink(db, Actor(app_session))
    return redirect(session_url("notices.line_page", did="unlinked"), code=303)
