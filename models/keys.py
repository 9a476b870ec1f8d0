"""The tool's own RSA signing keys. The newest unretired key signs; retired keys stay published for a grace period."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class NoSigningKey(Exception):
    """The tool has no current key; run `plc-bridge keys rotate`."""


class ToolKey(Base):
    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    # After this moment a retired key is no longer published.
    unpublish_at: Mapped[datetime | None] = mapped_column(default=None)

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(JWK.from_pem(self.public_pem.encode()).export_public())
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return dict(jwk)


def generate_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    kid = JWK.from_pem(public_pem.encode()).thumbprint()
    return ToolKey(kid=kid, private_pem=private_pem, public_pem=public_pem)


def current_key(db: Session) -> ToolKey:
    key = db.scalars(
        select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
    ).first()
    if key is None:
        raise NoSigningKey("the tool has no signing key: run `plc-bridge keys rotate`")
    return key


def ensure_key(db: Session) -> ToolKey:
    """Return the signing key, generating the first one on first start."""
    try:
        return current_key(db)
    except NoSigningKey:
        key = generate_key()
        db.add(key)
        db.flush()
        return key


def rotate_keys(db: Session, grace: timedelta) -> ToolKey:
    """Make a new signing key; keep the old ones in the JWKS for `grace` so cached copies stay valid."""
    now = utcnow()
    for old in db.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
        old.retired_at = now
        old.unpublish_at = now + grace
    key = generate_key()
    db.add(key)
    db.flush()
    return key


def published_keys(db: Session) -> list[ToolKey]:
    now = utcnow()
    return list(
        db.scalars(
            select(ToolKey)
            .where(or_(ToolKey.retired_at.is_(None), ToolKey.unpublish_at > now))
            .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        )
    )


def jwks(db: Session) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [key.public_jwk() for key in published_keys(db)]}
