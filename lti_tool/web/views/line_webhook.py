"""The LINE Official Account's webhook (one address per platform, set as the channel's "Webhook URL" in the LINE
Developers console): the body is capped before it is read, its X-Line-Signature checked with the channel secret,
replayed events refused; the replies go out once the links are committed. LINE wants a 200 quickly and no other
body (Messaging API reference, "Response"): a refused signature is 400, nothing is said about why."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, request

from lti_tool.channels import line as line_api
from lti_tool.channels import wording
from lti_tool.services import line_linking
from lti_tool.web.session import database, settings
from models import line

log = logging.getLogger(__name__)

bp = Blueprint("line_webhook", __name__)


@bp.post("/line/webhook/<int:platform_id>")
def webhook(platform_id: int) -> tuple[str, int]:
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
    line_linking.send_replies(token, settings().line_api_base_url, result.replies, settings().line_timeout_seconds)
    return "", 200
