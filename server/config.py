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
    # the role the server's connections log in as: may only insert and read the log.
    # Its login: this DSN when the operator manages the role (HAMKARI_APP_DATABASE_URL),
    # else the owner's DSN with this role and the password `hamkari migrate` keeps in
    # the data directory (server/database/roles.py)
    app_role: str = "hamkari_app"
    app_database_url: str | None = None
    # a hot standby for reports, log reads, the live feed, exports and proofs (None:
    # all from DATABASE_URL); an owner's DSN like DATABASE_URL, the pool logs in as the
    # app role there too. /ready says 503 when it is more than `read_max_lag` events
    # behind the primary (docs/operator-guide.md, "The read replica")
    read_database_url: str | None = None
    read_app_database_url: str | None = None
    read_max_lag: int = 1000
    pool_min_size: int = 2
    pool_max_size: int = 10
    # appender: the most events one group commit may carry
    appender_max_batch: int = 5000
    # largest request body accepted (413 beyond)
    max_body_bytes: int = 8 * 1024 * 1024
    # subscriptions poll this often when no NOTIFY arrives
    poll_interval: float = 2.0
    # audit log: the checkpoint origin line (also the signing key's name), and a
    # checkpoint is signed once this many events or this many seconds passed since the
    # last one (and the log grew); 0 turns that trigger off
    log_origin: str = "hamkari.tehran/log"
    checkpoint_events: int = 1000
    checkpoint_seconds: float = 60.0
    # projections: run this process's share of the runners (off: serve reads only;
    # `hamkari serve` runs them in a projector process of their own and its HTTP
    # workers only stand by, first trying `projections_standby` seconds after start);
    # events per batch; seconds between tries to take over a projection another
    # process runs; how long `?min_position=` may wait before a 503
    projections_run: bool = True
    projections_standby: float = 0.0
    projection_batch: int = 5000
    # a caught-up projection applies what arrived at most this often (seconds): under
    # many small commits, one batch per interval instead of one per commit
    projection_step_interval: float = 0.05
    # fold snapshots for `?at_position=`: one every this many events (0: none), the
    # newest this many kept per projection (docs/projections.md)
    projection_snapshot_every: int = 100_000
    projection_snapshot_keep: int = 10
    projection_lock_retry: float = 5.0
    report_wait_max: float = 5.0
    # operations (docs/operator-guide.md): the most events one POST may carry; requests
    # per second (and burst) one token may make, 0 for no limit (per worker: the budget
    # is split across workers); seconds a request may take before a 503; seconds
    # SIGTERM waits for in-flight requests and the appender's queue; how far behind the
    # log a projection may be before /ready says 503; one JSON line per request
    max_batch_events: int = 1000
    rate_limit: float = 200.0
    rate_burst: int = 400
    request_timeout: float = 30.0
    shutdown_timeout: float = 30.0
    ready_max_lag: int = 10_000
    access_log: bool = True
    # aggregates kept decoded in each worker's memory (an LRU; bounds its size)
    aggregate_cache: int = 10_000
    # the dashboard's cookies carry Secure (browsers send them over HTTPS and to
    # localhost only); off only for a trusted plain-HTTP office network
    web_secure_cookies: bool = True

    @property
    def pgdata(self) -> Path:
        return Path(self.data_dir) / "pgdata"

    @property
    def signing_key_path(self) -> Path:
        """The checkpoint signing key (generated on first run): never in the database."""
        if self.signing_key:
            return Path(self.signing_key)
        return Path(self.data_dir) / "signing-key.pem"

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

        def number(name: str, default: float) -> float:
            value = env.get(name)
            if not value:
                return default
            try:
                return float(value)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {value!r}") from None

        return cls(
            database_url=text("DATABASE_URL", None),
            app_database_url=text("HAMKARI_APP_DATABASE_URL", None),
            read_database_url=text("HAMKARI_READ_DATABASE_URL", None),
            read_app_database_url=text("HAMKARI_READ_APP_DATABASE_URL", None),
            read_max_lag=integer("HAMKARI_READ_MAX_LAG", defaults.read_max_lag),
            data_dir=text("HAMKARI_DATA_DIR", defaults.data_dir) or defaults.data_dir,
            host=text("HAMKARI_HOST", defaults.host) or defaults.host,
            port=integer("HAMKARI_PORT", defaults.port),
            workers=integer("HAMKARI_WORKERS", defaults.workers),
            signing_key=text("HAMKARI_SIGNING_KEY", None),
            pool_min_size=integer("HAMKARI_POOL_MIN", defaults.pool_min_size),
            pool_max_size=integer("HAMKARI_POOL_MAX", defaults.pool_max_size),
            max_body_bytes=integer("HAMKARI_MAX_BODY_BYTES", defaults.max_body_bytes),
            log_origin=text("HAMKARI_LOG_ORIGIN", defaults.log_origin) or defaults.log_origin,
            checkpoint_events=integer("HAMKARI_CHECKPOINT_EVENTS", defaults.checkpoint_events),
            checkpoint_seconds=integer(
                "HAMKARI_CHECKPOINT_SECONDS", int(defaults.checkpoint_seconds)
            ),
            projections_run=env.get("HAMKARI_PROJECTIONS", "on").lower()
            not in ("0", "off", "false", "no"),
            projections_standby=number("HAMKARI_PROJECTIONS_STANDBY", defaults.projections_standby),
            projection_batch=integer("HAMKARI_PROJECTION_BATCH", defaults.projection_batch),
            projection_step_interval=number(
                "HAMKARI_PROJECTION_STEP_INTERVAL", defaults.projection_step_interval
            ),
            projection_snapshot_every=integer(
                "HAMKARI_PROJECTION_SNAPSHOT_EVERY", defaults.projection_snapshot_every
            ),
            projection_snapshot_keep=integer(
                "HAMKARI_PROJECTION_SNAPSHOT_KEEP", defaults.projection_snapshot_keep
            ),
            projection_lock_retry=integer(
                "HAMKARI_PROJECTION_LOCK_RETRY", int(defaults.projection_lock_retry)
            ),
            report_wait_max=integer("HAMKARI_REPORT_WAIT_MAX", int(defaults.report_wait_max)),
            max_batch_events=integer("HAMKARI_MAX_BATCH_EVENTS", defaults.max_batch_events),
            rate_limit=number("HAMKARI_RATE_LIMIT", defaults.rate_limit),
            rate_burst=integer("HAMKARI_RATE_BURST", defaults.rate_burst),
            request_timeout=number("HAMKARI_REQUEST_TIMEOUT", defaults.request_timeout),
            shutdown_timeout=number("HAMKARI_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout),
            ready_max_lag=integer("HAMKARI_READY_MAX_LAG", defaults.ready_max_lag),
            access_log=env.get("HAMKARI_ACCESS_LOG", "on").lower()
            not in ("0", "off", "false", "no"),
            aggregate_cache=integer("HAMKARI_AGGREGATE_CACHE", defaults.aggregate_cache),
            web_secure_cookies=env.get("HAMKARI_WEB_SECURE_COOKIES", "on").lower()
            not in ("0", "off", "false", "no"),
        )
