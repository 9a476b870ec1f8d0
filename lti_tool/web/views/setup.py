"""What a district admin pastes into Moodle: the registration URL for "Add LTI Advantage" (Dynamic Registration), or
the values for the "Configure a tool manually" form under Moodle's own field names, and the Moodle settings that a
tool needs to work as Moodle 4.5 really has them (the activity chooser switch, Moodle's HTTP security).

Public on purpose: the admin needs it before any launch, and it holds only URLs and the public key. Which
platforms are registered is not shown here (one district must not learn of another's); see `plc-bridge platform list`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, render_template

from lti_tool.lti.launch import launch_url
from lti_tool.web.session import database, settings
from models.keys import current_key

bp = Blueprint("setup", __name__)

# Moodle 4.5's defaults (admin/settings/security.php): outgoing calls (the keyset, the registration) to these hosts
# and to any port but these are refused until an admin changes "cURL blocked hosts list" and "cURL allowed ports list".
MOODLE_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "192.168.0.0/16",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "0.0.0.0/32",
        "169.254.169.254/32",
        "::1/128",
    )
)
MOODLE_ALLOWED_PORTS = frozenset({80, 443})


@dataclass(frozen=True)
class MoodleBlocks:
    """What of the tool's public address Moodle's default HTTP security refuses: the host, the port, or neither."""

    host: str | None
    port: int | None


def moodle_blocks(public_base_url: str) -> MoodleBlocks:
    """Whether Moodle's default cURL security refuses the tool's address: an IP address in a blocked range or the
    name localhost (a name is also refused when it resolves to such an address, which only Moodle's machine knows),
    and a port other than 80 and 443."""
    parts = urlsplit(public_base_url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    blocked_host = host == "localhost"
    try:
        address = ipaddress.ip_address(host)
        blocked_host = any(
            address in network for network in MOODLE_BLOCKED_NETWORKS if network.version == address.version
        )
    except ValueError:
        pass  # a host name
    return MoodleBlocks(
        host if blocked_host else None, port if port is not None and port not in MOODLE_ALLOWED_PORTS else None
    )


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
            blocks=moodle_blocks(base),
        )
