"""The LINE Official Account's webhook (one address per platform, set as the channel's "Webhook URL" in the LINE
Developers console): the body is capped before it is read, its X-Line-Signature checked with the channel secret,
replayed events refused; the replies go out once the links are committed and the 200 is written. LINE wants a 200 quickly and no other
body (Messaging API reference, "Response"): a refused signature is 400, nothing is said about why."""

from __future__ import annotations

import logging
from functools import partial

from flask import Blueprint, abort, make_response, request
from werkzeug.wrappers import Response

from lti_tool.channels import line as line_api
from lti_tool.channels import wording
from lti_tool.services import line_linking
from lti_tool.web.session import database, settings
from models import line

log = logging.getLogger(__name__)

bp = Blueprint("line_webhook", __name__)

REPLY_TIMEOUT_SECONDS = 2.0  # a reply token lives a short while, and LINE waits for nothing from us


@bp.post("/line/webhook/<int:platform_id>")
def webhook(platform_id: int) -> Response:
    most = settings().line_max_webhook_bytes
    if request.content_length is None or request.content_length > most:
        abort(413)
    raw = request.stream.read(most + 1)
    if len(raw) > most:
        abort(413)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        abort(400)
    signature = request.headers.get("X-Line-Signature", "")
    texts = wording.translations(settings().default_locale)
    try:
        with database().transaction() as db:
            result = line_linking.take_webhook(db, platform_id, body, signature, texts)
            account = line.channel_of(db, platform_id)
            token = account.access_token if account is not None else ""
    except line_api.BadSignature:
        log.warning("LINE webhook for platform %s refused: bad or missing signature", platform_id)
        abort(400)
    except (ValueError, KeyError, TypeError):
        abort(400)  # signed, but not a webhook body
    if result.replayed:
        log.info("LINE webhook for platform %s: %d events already taken or too old", platform_id, result.replayed)
    response = make_response("", 200)
    if result.replies:  # after LINE has its 200 (the response is written first), each call briefly bounded
        base_url, timeout = settings().line_api_base_url, min(settings().line_timeout_seconds, REPLY_TIMEOUT_SECONDS)
        response.call_on_close(partial(_send_replies, platform_id, token, base_url, result.replies, timeout))
    return response


def _send_replies(
    platform_id: int, token: str, base_url: str, replies: list[line_linking.Reply], timeout: float
) -> None:
    try:
        line_linking.send_replies(token, base_url, replies, timeout)
    except Exception:  # noqa: BLE001 - a reply is a courtesy: the link is done whatever it does
        log.exception("LINE webhook for platform %s: the replies failed", platform_id)
