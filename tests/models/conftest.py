"""The rules' courses: synthetic people in the rolled-back `db` session (tests/conftest.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.factories import Course, make_course


@pytest.fixture
def course(db: Session) -> Course:
    return make_course(db, "math-p4")


@pytest.fixture
def other_course(db: Session) -> Course:
    return make_course(db, "science-m1")
