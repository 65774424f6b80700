"""Settings: one immutable Struct read from the environment once, then passed down.

Every knob an operator may turn is here, with its environment variable and default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # None: start the embedded PostgreSQL under data_dir/pgdata
    database_url: str | None = None
    data_dir: str = "var"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    signing_key: str | None = None
    # the role the server's connections act as: may only insert and read the log
    app_role: str = "hamkari_app"
    pool_min_size: int = 2
    pool_max_size: int = 10
    # appender: the most events one group commit may carry
    appender_max_batch: int = 5000
    # subscriptions poll this often when no NOTIFY arrives
    poll_interval: float = 2.0

    @property
    def pgdata(self) -> Path:
        return Path(self.data_dir) / "pgdata"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str | None) -> str | None:
            value = env.get(name)
            return value if value else default

        def integer(name: str, default: int) -> int:
            value = env.get(name)
            if not value:
                return default
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"{name} must be an integer, not {value!r}") from None

        return cls(
            database_url=text("DATABASE_URL", None),
            data_dir=text("HAMKARI_DATA_DIR", defaults.data_dir) or defaults.data_dir,
            host=text("HAMKARI_HOST", defaults.host) or defaults.host,
            port=integer("HAMKARI_PORT", defaults.port),
            workers=integer("HAMKARI_WORKERS", defaults.workers),
            signing_key=text("HAMKARI_SIGNING_KEY", None),
            pool_min_size=integer("HAMKARI_POOL_MIN", defaults.pool_min_size),
            pool_max_size=integer("HAMKARI_POOL_MAX", defaults.pool_max_size),
        )
