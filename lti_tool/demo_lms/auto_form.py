"""The auto-submitting form of an LTI launch, both sides: the page a platform answers with (`auto_form`) and, for
tests and benchmarks that have no browser, what the page's script does in one (`submit_auto_form`)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests


def auto_form(action: str, fields: list[tuple[str, str]]) -> str:
    """A page that posts `fields` to `action` as soon as it loads (with a button when scripts are off)."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Launching…</title></head><body>'
        f'<form method="post" action="{html.escape(action)}" id="f">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        '<script>document.getElementById("f").submit()</script></body></html>'
    )


class _FormParser(HTMLParser):
    """The first form of a page: its action, method and the fields a script's form.submit() would send."""

    _NOT_SENT = {"submit", "button", "reset", "image", "file"}

    def __init__(self) -> None:
        super().__init__()  # convert_charrefs: attribute values arrive unescaped
        self.action: str | None = None
        self.method = "get"
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and not self._in_form:
            self._in_form = True
            self.action = values.get("action", "")
            self.method = (values.get("method") or "get").lower()
        elif tag == "input" and self._in_form and values.get("name") and "disabled" not in values:
            kind = values.get("type", "text").lower()
            if kind in self._NOT_SENT or (kind in {"checkbox", "radio"} and "checked" not in values):
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self.fields.append((values["name"], values.get("value", default)))
        elif tag == "textarea" and self._in_form and values.get("name"):
            self._textarea = (values["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def read_auto_form(response: requests.Response) -> tuple[str, str, list[tuple[str, str]]]:
    """The first form of `response`'s page: its action (absolute), method and the fields its submission sends."""
    parser = _FormParser()
    parser.feed(response.text)
    parser.close()
    if parser.action is None:
        raise AssertionError(f"no form on the page ({response.status_code}): {response.text[:300]}")
    return urljoin(response.url, parser.action), parser.method, parser.fields


def submit_auto_form(session: requests.Session, response: requests.Response, timeout: float = 10) -> requests.Response:
    """Submit the first form of `response`'s page with `session`, as the page's script would in a browser; the answer's
    address is then the one a browser shows for it (`shown_address`)."""
    action, method, fields = read_auto_form(response)
    if method == "post":
        answer = session.post(action, data=fields, timeout=timeout)
    else:  # a GET form replaces the action's query string with the fields
        answer = session.get(
            urlunsplit(urlsplit(action)._replace(query="", fragment="")), params=fields, timeout=timeout
        )
    answer.url = shown_address(answer)
    return answer


_LAUNCH_ADDRESS = re.compile(r'<script [^>]*data-launch-address="([^"]*)"')


def launch_address_of(response: requests.Response) -> str | None:
    """The address `response`'s page puts in the history when it came in a launch's answer (the tool's
    static/launch_address.js does it in a browser); None for any other page."""
    found = _LAUNCH_ADDRESS.search(response.text) if "text/html" in response.headers.get("Content-Type", "") else None
    return html.unescape(found.group(1)) if found else None


def shown_address(response: requests.Response) -> str:
    """The address a browser shows for `response`'s page: the one it puts in the history, else the one it was asked
    at."""
    address = launch_address_of(response)
    return urljoin(response.url, address) if address else response.url
