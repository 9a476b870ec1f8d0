"""What a district admin pastes into Moodle: the registration URL for "Add LTI Advantage" (Dynamic Registration), or
the values for the "Configure a tool manually" form under Moodle's own field names.

Public on purpose: the admin needs it before any launch, and it holds only URLs and the public key. Which
platforms are registered is not shown here (one district must not learn of another's); see `plc-bridge platform list`.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from lti_tool.lti.launch import launch_url
from lti_tool.web.session import database, settings
from models.keys import current_key

bp = Blueprint("setup", __name__)


@bp.get("/setup")
def moodle_setup() -> str:
    base = settings().public_base_url
    with database().transaction() as db:
        key = current_key(db)
        fields = [
            ("Tool URL", launch_url(settings())),
            ("LTI version", "LTI 1.3"),
            ("Public key type", "Keyset URL"),
            ("Public keyset URL", base + "/lti/jwks"),
            ("Initiate login URL", base + "/lti/login"),
            ("Redirection URI(s)", launch_url(settings())),
        ]
        return render_template(
            "setup.html",
            fields=fields,
            public_key_pem=key.public_pem,
            base=base,
            registration_url=base + "/lti/register",
        )
