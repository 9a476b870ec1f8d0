"""The person's personal data (PDPA B.E. 2562): reading the notice, and taking a copy of all that is held about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models.personal_data import held_about
from models.personal_data_records import PersonalData
from models.privacy_notice import PrivacyNotice, acknowledge, has_acknowledged


def must_read_notice(db: Session, person_id: int, notice: PrivacyNotice) -> bool:
    """Has the person not yet acknowledged the notice's current version? (A new version is shown again, once.)"""
    return not has_acknowledged(db, person_id, notice.version)


def acknowledge_notice(db: Session, actor: Actor, notice: PrivacyNotice, shown_version: str, now: datetime) -> bool:
    """The person says they read the notice; recorded with its version. False, and nothing recorded, when the page
    they read showed another version than the current one (the district replaced it meanwhile)."""
    if shown_version != notice.version:
        return False
    acknowledge(db, actor.session.person_id, notice.version, now)
    return True


def my_data(db: Session, actor: Actor) -> PersonalData:
    """Everything held about the person acting, and nothing about anyone else (their own copy)."""
    return held_about(db, actor.session.person_id)
