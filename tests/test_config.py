"""Settings from the environment: every operator's knob has its variable, and a bad
value is refused with the variable's name rather than ignored."""

from __future__ import annotations

import pytest

from server.config import Settings


def test_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "HAMKARI_MAX_BODY_BYTES": "1024",
            "HAMKARI_MAX_BATCH_EVENTS": "50",
            "HAMKARI_RATE_LIMIT": "2.5",
            "HAMKARI_RATE_BURST": "5",
            "HAMKARI_REQUEST_TIMEOUT": "0.5",
            "HAMKARI_SHUTDOWN_TIMEOUT": "12",
            "HAMKARI_READY_MAX_LAG": "7",
            "HAMKARI_POOL_MIN": "1",
            "HAMKARI_POOL_MAX": "4",
            "HAMKARI_ACCESS_LOG": "off",
            "HAMKARI_AGGREGATE_CACHE": "100",
        }
    )
    assert (settings.max_body_bytes, settings.max_batch_events) == (1024, 50)
    assert (settings.rate_limit, settings.rate_burst) == (2.5, 5)
    assert (settings.request_timeout, settings.shutdown_timeout) == (0.5, 12.0)
    assert (settings.ready_max_lag, settings.pool_min_size, settings.pool_max_size) == (7, 1, 4)
    assert settings.access_log is False
    assert settings.aggregate_cache == 100


def test_defaults_without_the_variables() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.access_log is True
    assert settings.rate_limit > 0


@pytest.mark.parametrize("name", ["HAMKARI_RATE_LIMIT", "HAMKARI_REQUEST_TIMEOUT"])
def test_a_bad_number_names_its_variable(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: "fast"})


def test_the_read_replica_comes_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://owner@db1:5432,db2:5432/hamkari"
            "?target_session_attrs=read-write",
            "HAMKARI_READ_DATABASE_URL": "postgresql://owner@db2/hamkari",
            "HAMKARI_READ_APP_DATABASE_URL": "postgresql://hamkari_app:pw@db2/hamkari",
            "HAMKARI_READ_MAX_LAG": "25",
        }
    )
    assert settings.database_url is not None and "db1:5432,db2:5432" in settings.database_url
    assert settings.read_database_url == "postgresql://owner@db2/hamkari"
    assert settings.read_app_database_url == "postgresql://hamkari_app:pw@db2/hamkari"
    assert settings.read_max_lag == 25
    assert Settings.from_env({}).read_database_url is None
