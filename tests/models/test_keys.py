"""Tool key generation, rotation with a grace period, and the published key set."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.base import utcnow
from models.database import Database
from models.keys import NoSigningKey, current_key, ensure_key, jwks, published_keys, rotate_keys
from models.migrate import current_revision, head_revision, upgrade


def test_migrations_bring_an_empty_database_to_head(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(database.engine)
    upgrade(database.engine)  # running it again changes nothing
    assert current_revision(database.engine) == head_revision()


def test_a_fresh_tool_has_no_key_until_first_start(db: Session) -> None:
    with pytest.raises(NoSigningKey):
        current_key(db)
    first = ensure_key(db)
    assert ensure_key(db).kid == first.kid


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(db: Session) -> None:
    old = ensure_key(db)
    new = rotate_keys(db, grace=timedelta(days=7))

    assert current_key(db).kid == new.kid != old.kid
    assert [k.kid for k in published_keys(db)] == [new.kid, old.kid]
    assert {k["kid"] for k in jwks(db)["keys"]} == {new.kid, old.kid}


def test_old_key_leaves_the_key_set_after_the_grace_period(db: Session) -> None:
    old = ensure_key(db)
    new = rotate_keys(db, grace=timedelta(days=7))
    old.unpublish_at = utcnow() - timedelta(seconds=1)

    assert [k.kid for k in published_keys(db)] == [new.kid]


def test_published_keys_hold_no_private_material(db: Session) -> None:
    ensure_key(db)
    for key in jwks(db)["keys"]:
        assert set(key) >= {"kty", "n", "e", "kid", "alg", "use"}
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
