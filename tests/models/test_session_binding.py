"""Sessions tied to a browser: the key a new session gets, when a link needs the browser's cookie, and sign out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from lti_tool.lti.browser_binding import browser_fingerprint, same_browser
from lti_tool.settings import Settings
from models.people import Membership
from models.sessions import (
    AppSession,
    browser_key_for,
    browser_sessions,
    end_sessions,
    find_session,
    hash_browser_key,
    latest_browser_session,
    new_browser_key,
    note_cookie_kept,
    open_session,
    tie_to_browser,
)
from tests.factories import make_course


def opened(db: Session, member: Membership, key: str | None = None, kept: bool = False) -> AppSession:
    app_session = open_session(db, member, None, "th", {}, timedelta(hours=8))
    db.flush()
    if key is not None:
        tie_to_browser(app_session, key, kept=kept)
        db.flush()
    return app_session


def test_a_session_keeps_the_hash_of_its_browser_key_never_the_key(db: Session) -> None:
    course = make_course(db, "binding-hash", teachers=1)
    key = new_browser_key()

    app_session = opened(db, course.teachers[0], key)

    assert app_session.browser_key_hash == hash_browser_key(key) != key
    assert browser_sessions(db, key) == [app_session]


def test_a_link_needs_the_cookie_only_once_the_browser_was_seen_keeping_it(db: Session) -> None:
    course = make_course(db, "binding-kept", teachers=1)
    key = new_browser_key()
    app_session = opened(db, course.teachers[0], key)
    assert app_session.opens_with(None) and app_session.opens_with(new_browser_key())

    note_cookie_kept(app_session, new_browser_key())  # another browser's cookie binds nothing
    assert app_session.browser_bound_at is None
    note_cookie_kept(app_session, key)

    assert app_session.browser_bound_at is not None
    assert app_session.opens_with(key)
    assert not app_session.opens_with(None) and not app_session.opens_with(new_browser_key())


def test_the_same_person_keeps_the_browser_key_and_the_next_person_gets_a_new_one(db: Session) -> None:
    course = make_course(db, "binding-next", teachers=2)
    first, colleague = course.teachers
    key = new_browser_key()
    opened(db, first, key, kept=True)

    same_person_again = opened(db, first)
    next_person = opened(db, colleague)

    assert browser_key_for(db, same_person_again, key) == key
    assert browser_key_for(db, next_person, key) != key
    assert browser_key_for(db, next_person, None) != browser_key_for(db, next_person, None)  # fresh each time


def test_a_browser_opens_its_latest_session_and_a_colleagues_old_one_still_takes_its_key(db: Session) -> None:
    course = make_course(db, "binding-latest", teachers=2)
    first, colleague = course.teachers
    key = new_browser_key()
    earlier_colleague = opened(db, colleague, key)
    launches = [opened(db, first, key) for _ in range(3)]  # one teacher, three activities today
    earlier_colleague.created_at = launches[0].created_at - timedelta(minutes=5)
    db.flush()

    assert latest_browser_session(db, key) is launches[-1]
    assert latest_browser_session(db, new_browser_key()) is None
    # a colleague's live session on this browser, however old: the next launch gets a key of its own
    assert browser_key_for(db, opened(db, first), key) != key
    earlier_colleague.ended_at = earlier_colleague.created_at
    db.flush()
    assert browser_key_for(db, opened(db, first), key) == key


def test_signing_out_ends_the_session_and_the_same_browsers_others_only(db: Session) -> None:
    course = make_course(db, "binding-out", teachers=2)
    first, colleague = course.teachers
    key = new_browser_key()
    tab_one, tab_two = opened(db, first, key, kept=True), opened(db, first, key, kept=True)
    elsewhere = opened(db, colleague, new_browser_key(), kept=True)

    ended = end_sessions(db, tab_one, key)

    assert ended == 2
    assert find_session(db, tab_one.token) is None and find_session(db, tab_two.token) is None
    assert find_session(db, elsewhere.token) is elsewhere
    assert browser_sessions(db, key) == []


def test_the_fingerprint_follows_the_setting() -> None:
    both = Settings(secret_key="k" * 32)
    agent = Settings(secret_key="k" * 32, launch_fingerprint="agent")
    off = Settings(secret_key="k" * 32, launch_fingerprint="off")

    at_login = browser_fingerprint(both, "10.0.0.5", "Chromium", "n1")
    assert same_browser(both, at_login, "10.0.0.5", "Chromium", "n1")
    assert not same_browser(both, at_login, "10.0.0.6", "Chromium", "n1")
    assert not same_browser(both, at_login, "10.0.0.5", "Firefox", "n1")
    assert not same_browser(both, at_login, "10.0.0.5", "Chromium", "n2")  # another login's
    assert at_login != browser_fingerprint(both, "10.0.0.5", "Chromium", "n2")  # each login's differs
    assert same_browser(agent, browser_fingerprint(agent, "10.0.0.5", "Chromium", "n1"), "10.0.0.6", "Chromium", "n1")
    assert browser_fingerprint(off, "10.0.0.5", "Chromium", "n1") is None and same_browser(off, None, "x", "y", "n1")
    assert browser_fingerprint(Settings(secret_key="other" * 8), "10.0.0.5", "Chromium", "n1") != at_login  # keyed
