"""The launch's answer: the page the launch leads to, in the launch's own answer instead of a redirect to it.

A redirect (303) would make the browser ask for that page at once, over the network, as a request of its own: the
teacher waits one round trip more, and the tool parses and answers one request more, at 08:30 on a PLC day with a
whole district launching. So the launch asks for the page itself, in this process, exactly as the browser's GET of it
would: the same address (with the session's link token), the cookies the browser would send with it, every check and
hook of a page request. The page then puts its own address in the browser's history (static/launch_address.js), so
that reloading it, a bookmark or coming back to it asks for that page by GET and never posts the launch again (whose
nonce is spent: it would be refused).

A page that is not one to show in place (a redirect, an error, anything but a page that has put its address back) is
not answered so: the launch redirects to its address as before, and the browser asks for it. A browser that runs no
script goes to the address at once (a refresh in <noscript>), as it would after the redirect.
"""

from __future__ import annotations

import io
import logging
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Response, current_app, g, has_request_context, request
from werkzeug.http import dump_cookie

from lti_tool.lti.launch import STATE_COOKIE_PREFIX
from lti_tool.web.session import SESSION_COOKIE

log = logging.getLogger(__name__)

ADDRESS_KEY = "plc.launch_address"
"""The request's environ key that holds the address of a page rendered in a launch's answer (base.html reads it)."""

SHOWN_KEY = "plc.launch_address_shown"
"""Set in that environ once the page has put its address in its head: only such a page is shown in place."""


def launch_address() -> str | None:
    """The address to put in the history, when this page is rendered in a launch's answer; None otherwise. Asking
    for it is what base.html does as it puts it in the page."""
    if not has_request_context():  # a document made by a worker
        return None
    value = request.environ.get(ADDRESS_KEY)
    if not isinstance(value, str):
        return None
    request.environ[SHOWN_KEY] = True
    return value


def page_in_answer(destination: str, browser_cookie: str | None) -> Response | None:
    """The page at `destination` (a path on this tool, with its query) as the browser's GET of it would get it, with
    `browser_cookie` as its session cookie when the browser is known to keep the one the launch sets (None: the
    cookies it sent with the launch, as a browser that drops the new one would send them); None when that answer is
    not a page to show in place of the redirect."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    environ = _get_environ(destination, browser_cookie)
    try:
        # A context of its own (its own `g`, locale and session): the launch's hooks after its request then run on
        # the answer as on any of its answers (they only set what a page has not: the frame's CSP, the request id).
        with app.app_context(), app.request_context(environ):
            response: Response = app.full_dispatch_request()
    except Exception:  # the launch is recorded; the browser asks for the page itself, and sees what it says then
        log.exception("the page after a launch was not rendered in its answer: %s", destination.partition("?")[0])
        return None
    if (
        response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or not environ.get(SHOWN_KEY)
    ):
        return None
    return response


_POST_ONLY = ("CONTENT_TYPE", "HTTP_COOKIE", "HTTP_ORIGIN")
"""What the launch's request carries that the GET after it would not (its cookies are given apart)."""


def _get_environ(destination: str, browser_cookie: str | None) -> dict[str, Any]:
    """The launch's request as the GET of `destination` after it: no body, the destination's path and query, the
    browser's cookies; everything else (the client's address, the host, the scheme, the headers) as the launch's."""
    path, _, query = destination.partition("?")
    script_root = request.script_root
    if script_root and path.startswith(script_root):
        path = path[len(script_root) :]
    # The login's state cookie is the launch's only (its path is /lti/); the session's, where the browser keeps it.
    cookies = {name: value for name, value in request.cookies.items() if not name.startswith(STATE_COOKIE_PREFIX)}
    if browser_cookie is not None:
        cookies[SESSION_COOKIE] = browser_cookie
    environ = {
        key: value
        for key, value in request.environ.items()
        if not key.startswith(("werkzeug.", "flask.")) and key not in _POST_ONLY
    }
    environ.update(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),  # as a WSGI server gives it: bytes as latin-1
            "QUERY_STRING": query,
            "REQUEST_URI": destination,  # what some servers add (waitress and gunicorn do): the GET's own
            "RAW_URI": destination,
            "CONTENT_LENGTH": "0",
            "wsgi.input": io.BytesIO(),
            ADDRESS_KEY: destination,
        }
    )
    request_id = g.get("request_id")
    if request_id:  # the page's log lines carry the launch's request id, which its answer echoes
        environ["HTTP_X_REQUEST_ID"] = request_id
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(dump_cookie(name, value, path=None) for name, value in cookies.items())
    return environ
