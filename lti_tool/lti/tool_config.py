"""pylti1p3's tool configuration, read from the database: many platforms, clients and deployments per instance."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Protocol, cast

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, undefer

from models.keys import ToolKey, current_key
from models.platform import Deployment, Platform


def find_platform(db: Session, issuer: str, client_id: str | None) -> Platform | None:
    """The registration for issuer + client_id; without a client_id, the issuer's only registration."""
    if client_id:
        return db.scalars(_platform_query(), {"issuer": issuer, "client_id": client_id}).first()
    candidates = list(db.scalars(select(Platform).where(Platform.issuer == issuer).limit(2)))
    return candidates[0] if len(candidates) == 1 else None


def launch_platform(db: Session, platform_id: int) -> Platform | None:
    """The platform a launch's state names, with its cached key set, by one statement built once (`db.get` with an
    option builds and keys its statement anew on every call)."""
    return db.scalars(_launch_platform_query(), {"platform_id": platform_id}).first()


class LoginPlatform(Protocol):
    """What a login reads of its platform: a row of these columns, not an ORM object (a login only reads them)."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str


def login_platform(db: Session, issuer: str, client_id: str | None) -> LoginPlatform | None:
    """find_platform for a login, which only reads the platform: with a client_id, its columns by one Core statement
    built once (the ORM's object costs 70 µs where the row costs 18 on SQLite); without, the issuer's only one."""
    if client_id:
        row = db.connection().execute(_login_platform_query(), {"issuer": issuer, "client_id": client_id}).first()
        return cast(LoginPlatform | None, row)
    return find_platform(db, issuer, None)


class DeploymentRow(Protocol):
    """What a launch reads of its deployment (a row, or a Deployment)."""

    id: int
    platform_id: int
    deployment_id: str


def find_deployment(db: Session, platform: Platform, deployment_id: str) -> DeploymentRow | None:
    """The platform's deployment of this id, as a row by one Core statement built once: every launch reads it and
    only reads it."""
    params = {"platform_id": platform.id, "deployment_id": deployment_id}
    return cast(DeploymentRow | None, db.connection().execute(_deployment_query(), params).first())


# Every login reads its platform and every launch its platform and deployment: their statements are built once.
@cache
def _platform_query() -> Any:
    return select(Platform).where(Platform.issuer == bindparam("issuer"), Platform.client_id == bindparam("client_id"))


@cache
def _launch_platform_query() -> Any:
    return select(Platform).where(Platform.id == bindparam("platform_id")).options(undefer(Platform.key_set_cache))


@cache
def _login_platform_query() -> Any:
    platforms = Platform.__table__.c
    return select(platforms.id, platforms.issuer, platforms.client_id, platforms.auth_login_url).where(
        platforms.issuer == bindparam("issuer"), platforms.client_id == bindparam("client_id")
    )


@cache
def _deployment_query() -> Any:
    deployments = Deployment.__table__.c
    return select(deployments.id, deployments.platform_id, deployments.deployment_id).where(
        deployments.platform_id == bindparam("platform_id"), deployments.deployment_id == bindparam("deployment_id")
    )


class _KeyOnDemand(Registration):
    """A registration whose tool key is read from the database the first time pylti1p3 asks for it."""

    def __init__(self, key: Callable[[], ToolKey]) -> None:
        super().__init__()
        self._key_source = key
        self._key: ToolKey | None = None

    def _tool_key(self) -> ToolKey:
        if self._key is None:
            self._key = self._key_source()
        return self._key

    def get_tool_private_key(self) -> str:
        return self._tool_key().private_pem

    def get_tool_public_key(self) -> str:
        return self._tool_key().public_pem


def registration_for(platform: Platform, key: ToolKey | Callable[[], ToolKey]) -> Registration:
    """pylti1p3's registration for a platform, with the tool's key (or a function that reads it when needed)."""
    base = Registration() if isinstance(key, ToolKey) else _KeyOnDemand(key)
    registration = (
        base.set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
    )
    if isinstance(key, ToolKey):
        registration.set_tool_private_key(key.private_pem).set_tool_public_key(key.public_pem)
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    if platform.key_set_cache:
        registration.set_key_set(platform.key_set_cache)  # type: ignore[arg-type]
    return registration


class DatabaseToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """Every issuer may have many client ids (LTI 1.3 §4.1.3), so lookups always use issuer + client_id."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _registration(self, iss: str, client_id: str | None) -> Registration | None:
        platform = find_platform(self.db, iss, client_id)
        if platform is None:
            return None
        return registration_for(platform, current_key(self.db))

    # pylti1p3 declares these as returning a Registration, yet checks for None (so does its own DictConfig).
    def find_registration_by_issuer(  # type: ignore[override]
        self, iss: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        return self._registration(iss, None)

    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration | None:
        return self._registration(iss, client_id)

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = find_platform(self.db, iss, client_id)
        if platform is None:
            return None
        row = find_deployment(self.db, platform, deployment_id)
        return LtiDeployment().set_deployment_id(row.deployment_id) if row else None
