"""The course scope: every tenant query goes through `scoped`, which limits it to one platform's course."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import Session

from models.base import Base
from models.errors import NotFoundInCourse
from models.programs import Program


@dataclass(frozen=True)
class CourseScope:
    """The platform and course of the session; a program and all that hangs off it belong to exactly one."""

    platform_id: int
    context_id: int


T = TypeVar("T", bound=Base)

# How each table reaches its program; each table's module registers its own path.
_PATH_TO_PROGRAM: dict[type[Base], tuple[Any, ...]] = {Program: ()}


def register_scope_path(entity: type[Base], path: tuple[Any, ...]) -> None:
    """Teach `scoped` how a table defined in another module reaches its program (relationships, in order)."""
    _PATH_TO_PROGRAM[entity] = path


def scoped(entity: type[T], scope: CourseScope) -> Select[T]:
    """`select(entity)` limited to one platform's course; add filters and ordering to it."""
    return _scoped(entity, scope.platform_id, scope.context_id)


def scoped_statement(entity: type[T]) -> Select[T]:
    """`scoped` for a statement built once and run on every page: the course is given when it runs, as the parameters
    `scope_parameters` names (building a statement costs more than running it)."""
    return _scoped(entity, bindparam("platform_id"), bindparam("context_id"))


def scope_parameters(scope: CourseScope) -> dict[str, int]:
    """The course of a `scoped_statement`, as its parameters."""
    return {"platform_id": scope.platform_id, "context_id": scope.context_id}


def _scoped(entity: type[T], platform_id: Any, context_id: Any) -> Select[T]:
    statement = select(entity)
    for relation in _PATH_TO_PROGRAM[entity]:
        statement = statement.join(relation)
    return statement.where(Program.platform_id == platform_id, Program.context_id == context_id)


def get_in_course(db: Session, scope: CourseScope, entity: type[T], entity_id: int) -> T:
    """One row by id, only if it belongs to the course; otherwise NotFoundInCourse (never another course's row)."""
    row = db.scalars(scoped(entity, scope).where(inspect(entity).primary_key[0] == entity_id)).one_or_none()
    if row is None:
        raise NotFoundInCourse(entity.__name__, entity_id)
    return row
