"""What people do in Moodle's own pages, in Chromium: log in, register and activate the tool, show it in the course's
activity chooser, add an activity with "Select content", open an activity, read the grader report."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.moodle import MoodleSite
from tests.support.waiting import wait_until

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TOOL_FRAME = "#contentframe"  # mod/lti/view.php's iframe of the launch
WAIT = 60_000  # Moodle renders each page in PHP; on a loaded 2-core machine some take many seconds


def log_in(browser: Any, site: MoodleSite, username: str, width: int = 1000, **context: Any) -> Any:
    """A browser of this person's own (cookies and all), logged in to Moodle through its login page."""
    browser_context = browser.new_context(viewport={"width": width, "height": 900}, locale="th-TH", **context)
    page = browser_context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(site.url("/login/index.php"))
    page.wait_for_load_state("networkidle")  # its script redraws the password field (show/hide) once loaded
    page.fill("#username", username)
    page.fill("#password", site.users[username])
    page.click("#loginbtn")
    page.wait_for_url(re.compile(r"^(?!.*login/index\.php).*$"))
    return page


def register_tool(page: Any, site: MoodleSite, registration_url: str) -> int:
    """Site administration → Plugins → External tool → Manage tools: paste the URL, "Add LTI Advantage", wait for the
    registration window to close by itself, then "Activate" the new tool. Its Moodle id."""
    before = {t["id"] for t in site.run({"action": "tool_types"})[0]}
    page.goto(site.url("/mod/lti/toolconfigure.php"))
    page.fill("#tool-url", registration_url)
    page.click("#tool-create-button")
    card = page.locator(".tool-card", has=page.locator("a.activate"))
    card.first.wait_for()
    [new] = [t for t in site.run({"action": "tool_types"})[0] if t["id"] not in before]
    card = page.locator(f'.tool-card[data-type-id="{new["id"]}"]')
    card.locator("a.activate").click()
    card.locator("a.activate").wait_for(state="detached")
    return int(new["id"])


def show_in_activity_chooser(page: Any, site: MoodleSite, course_id: int, type_id: int) -> None:
    """The course's "LTI External tools" page: switch the tool to "Show in activity chooser" (Moodle registers it
    as a preconfigured tool only)."""
    page.goto(site.url(f"/mod/lti/coursetools.php?id={course_id}"))
    toggle = page.locator(f"#showinactivitychooser-toggle-{type_id}")
    if not toggle.is_checked():
        toggle.check(force=True)  # Moodle's switch draws the box over a visually hidden checkbox
    wait_until(
        lambda: (
            site.query(
                "SELECT coursevisible FROM mdl_lti_coursevisible WHERE typeid = %s AND courseid = %s",
                type_id,
                course_id,
            )
            == [(2,)]
        ),
        timeout=15,
        message="the tool is not shown in the course's activity chooser",
    )


def add_activity(
    page: Any, site: MoodleSite, course_id: int, type_id: int, choose: Callable[[Any], None], shot: str = ""
) -> int:
    """Add an activity of the tool to the course's first section as the activity chooser does, press "Select
    content", let `choose` work in the tool's picker inside Moodle's modal, then "Save and return to course". The
    new activity's course-module id."""
    page.goto(site.url(f"/course/modedit.php?add=lti&typeid={type_id}&course={course_id}&section=1&return=0"))
    page.click("#id_selectcontent")
    picker = page.frame_locator(".modal-body iframe")
    picker.locator("form").first.wait_for()
    if shot:
        screenshot(page, shot)
    choose(picker)
    page.locator(".modal-body iframe").wait_for(state="detached")
    page.locator("#id_selectcontentindicator").filter(has_text=re.compile(r"\S")).wait_for()
    before = {row[0] for row in site.query("SELECT id FROM mdl_course_modules WHERE course = %s", course_id)}
    page.click("#id_submitbutton2")
    page.wait_for_url(re.compile(r"/course/view\.php"))
    [cmid] = [
        row[0]
        for row in site.query("SELECT id FROM mdl_course_modules WHERE course = %s", course_id)
        if row[0] not in before
    ]
    return int(cmid)


def open_activity(page: Any, site: MoodleSite, cmid: int) -> Any:
    """The activity's page; the tool in Moodle's iframe once the launch has landed."""
    page.goto(site.url(f"/mod/lti/view.php?id={cmid}"))
    frame = page.frame_locator(TOOL_FRAME)
    frame.locator("main, body").first.wait_for()
    return frame


def tool_frame(page: Any) -> Any:
    """The Playwright frame of the tool inside Moodle's page (for its address)."""
    for frame in page.frames:
        if frame.parent_frame is not None and "/lti/" not in urlparse(frame.url).path and "s=" in frame.url:
            return frame
    raise AssertionError(f"no tool frame among {[f.url for f in page.frames]}")


def session_token(frame: Any) -> str:
    return parse_qs(urlparse(frame.url).query)["s"][0]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=False)
