"""Settings: embedded defaults, and unsafe production settings refused with the variable named."""

from pathlib import Path

import pytest

from lti_tool.settings import SettingsError, load_settings


def test_embedded_defaults_make_an_sqlite_file_and_a_secret_in_the_instance_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PLC_DATABASE_URL", raising=False)
    settings = load_settings(instance_path=tmp_path / "inst")

    assert settings.database_url == f"sqlite:///{tmp_path / 'inst' / 'plc-bridge.sqlite3'}"
    assert len(settings.secret_key) > 40
    assert load_settings(instance_path=tmp_path / "inst").secret_key == settings.secret_key  # kept across starts


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        (
            {
                "demo_enabled": True,
                "secret_key": "s" * 40,
                "public_base_url": "https://plc.example",
                "database_url": "postgresql+psycopg://x/y",
            },
            "PLC_DEMO_ENABLED",
        ),
        ({"public_base_url": "https://plc.example", "database_url": "postgresql+psycopg://x/y"}, "PLC_SECRET_KEY"),
        (
            {
                "secret_key": "s" * 40,
                "public_base_url": "http://plc.example",
                "database_url": "postgresql+psycopg://x/y",
            },
            "PLC_PUBLIC_BASE_URL",
        ),
    ],
)
def test_unsafe_production_settings_are_refused_naming_the_variable(tmp_path, overrides, variable) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(instance_path=tmp_path, production=True, **overrides)


def test_production_needs_a_shared_rate_limit_store(tmp_path) -> None:
    safe = {
        "secret_key": "s" * 40,
        "public_base_url": "https://plc.example",
        "database_url": "postgresql+psycopg://x/y",
    }
    with pytest.raises(SettingsError, match="PLC_RATE_LIMIT_STORAGE"):
        load_settings(instance_path=tmp_path, production=True, **safe)
    assert load_settings(instance_path=tmp_path, production=True, rate_limit_storage="redis://127.0.0.1:6379", **safe)


def test_the_example_production_file_is_valid(tmp_path, monkeypatch) -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "plc-bridge.example.toml"
    monkeypatch.setenv("PLC_CONFIG_FILE", str(example))

    settings = load_settings(instance_path=tmp_path)

    assert settings.production and settings.lrs and settings.rate_limit_storage.startswith("redis://")
    assert "CHANGE-ME" not in repr(settings)  # secrets stay out of logs and tracebacks


def test_environment_and_toml_file_are_read(tmp_path, monkeypatch) -> None:
    config = tmp_path / "plc.toml"
    config.write_text('public_base_url = "https://from-file.example"\nkey_grace_days = 3\n', encoding="utf-8")
    monkeypatch.setenv("PLC_CONFIG_FILE", str(config))
    monkeypatch.setenv("PLC_KEY_GRACE_DAYS", "5")

    settings = load_settings(instance_path=tmp_path)

    assert settings.public_base_url == "https://from-file.example"
    assert settings.key_grace_days == 5  # the environment wins over the file


def test_a_malformed_value_names_its_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLC_JWT_LEEWAY_SECONDS", "soon")
    with pytest.raises(SettingsError, match="PLC_JWT_LEEWAY_SECONDS"):
        load_settings(instance_path=tmp_path)


def test_a_rate_limit_that_cannot_be_read_names_its_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLC_RATE_LIMIT_LTI", "many per minute")
    with pytest.raises(SettingsError, match="PLC_RATE_LIMIT_LTI"):
        load_settings(instance_path=tmp_path)


@pytest.mark.parametrize(
    ("name", "refused", "kept"),
    [
        # A spent nonce is kept an hour past its state's end (models/launch.py): a state may last an hour at most.
        ("login_request_ttl_seconds", [59, 3601], [60, 3600]),
        # A negative skew would refuse every state as it is signed.
        ("jwt_leeway_seconds", [-1, 301], [0, 300]),
    ],
)
def test_how_long_a_login_lasts_and_the_clock_skew_are_bounded(tmp_path, name, refused, kept) -> None:
    variable = "PLC_" + name.upper()
    for value in refused:
        with pytest.raises(SettingsError, match=variable):
            load_settings(instance_path=tmp_path, **{name: value})
    for value in kept:
        assert getattr(load_settings(instance_path=tmp_path, **{name: value}), name) == value
