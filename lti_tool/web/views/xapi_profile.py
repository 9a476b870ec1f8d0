"""The tool's xAPI Profile document, served where analysts and validators can read it."""

from __future__ import annotations

from flask import Blueprint, Response

from xapi.profile import PROFILE_PATH

bp = Blueprint("xapi_profile", __name__)


@bp.get("/xapi/profile")
@bp.get("/xapi/profile.jsonld")
def profile() -> Response:
    document = PROFILE_PATH.read_bytes()
    response = Response(document, mimetype="application/ld+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
