"""The baseline for bench/launch.py: a bare pylti1p3 Flask tool, as pylti1p3's own example app does it.

No database, no persistence: the registration is a ToolConfDict, state and nonce live in Flask's cookie
session and pylti1p3's state cookie, and the launch page just says who launched. Run:
    python bench/bare_tool.py PORT CONFIG.json
"""

from __future__ import annotations

import json
import sys

from flask import Flask, request
from pylti1p3.contrib.flask import FlaskCookieService, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict
from waitress import serve


def create_app(config: dict) -> Flask:
    app = Flask(__name__)
    app.secret_key = "bench-only"
    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    tool_conf = ToolConfDict(config["settings"])
    tool_conf.set_private_key(config["issuer"], config["private_key"], client_id=config["client_id"])
    tool_conf.set_public_key(config["issuer"], config["public_key"], client_id=config["client_id"])

    @app.route("/login", methods=["GET", "POST"])
    def login():
        flask_request = FlaskRequest()
        oidc_login = FlaskOIDCLogin(flask_request, tool_conf, cookie_service=FlaskCookieService(flask_request))
        return oidc_login.redirect(request.values["target_link_uri"])

    @app.route("/launch", methods=["POST"])
    def launch():
        flask_request = FlaskRequest()
        message_launch = FlaskMessageLaunch(flask_request, tool_conf)
        data = message_launch.get_launch_data()
        return f"<!doctype html><p>Hello {data.get('name', '')}, role {data['https://purl.imsglobal.org/spec/lti/claim/roles']}</p>"

    return app


if __name__ == "__main__":
    port, config_path = int(sys.argv[1]), sys.argv[2]
    with open(config_path, encoding="utf-8") as handle:
        serve(create_app(json.load(handle)), host="127.0.0.1", port=port, threads=8, ident="bare-pylti1p3")
