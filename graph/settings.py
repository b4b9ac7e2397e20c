"""All configuration in one pydantic-settings class, read from the environment.

The graph settings use the names the Neo4j ecosystem uses (NEO4J_URI ...), so a shell set up
for cypher-shell or a notebook works unchanged. No NEO4J_URI means: use the local server.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    neo4j_uri: str | None = Field(None, validation_alias="NEO4J_URI")
    neo4j_username: str = Field("neo4j", validation_alias=AliasChoices("NEO4J_USERNAME", "NEO4J_USER"))
    neo4j_password: SecretStr | None = Field(None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str | None = Field(None, validation_alias="NEO4J_DATABASE")
    connect_timeout: float = Field(
        4.0,
        gt=0,
        validation_alias="RURALKG_CONNECT_TIMEOUT",
        description="seconds to wait for the graph before reporting it unreachable",
    )
    query_timeout: float = Field(
        60.0,
        gt=0,
        validation_alias="RURALKG_QUERY_TIMEOUT",
        description="seconds a query may run: driver timeout on Neo4j, server flag on the local server",
    )

    pool_size: int = Field(
        100, ge=1, le=1000, validation_alias="RURALKG_POOL_SIZE", description="graph connections per process"
    )

    data_dir: Path = Field(Path(".ruralkg"), validation_alias="RURALKG_DATA_DIR")
    drafts_dir: Path | None = Field(None, validation_alias="RURALKG_DRAFTS_DIR")
    local_bolt_port: int = Field(
        0, ge=0, le=65535, validation_alias="RURALKG_BOLT_PORT", description="0 picks a free port"
    )
    local_http_port: int = Field(
        0, ge=0, le=65535, validation_alias="RURALKG_HTTP_PORT", description="0 picks a free port"
    )
    local_heap: str = Field(
        "1g", pattern=r"^\d+[kKmMgG]$", validation_alias="RURALKG_HEAP", description="JVM -Xmx"
    )
    local_wal_flush: int = Field(
        2,
        ge=0,
        le=2,
        validation_alias="RURALKG_WAL_FLUSH",
        description="arcadedb.txWalFlush: 0 none, 1 flush, 2 fsync at every commit (as Neo4j does)",
    )
    local_start_timeout: float = Field(60.0, gt=0, validation_alias="RURALKG_START_TIMEOUT")
    heal: bool = Field(
        True,
        validation_alias="RURALKG_HEAL",
        description="start the local server again when it exits or stops answering (API, notebooks)",
    )
    heal_after: float = Field(
        20.0,
        gt=0,
        le=3600,
        validation_alias="RURALKG_HEAL_AFTER",
        description="seconds a running local server may leave its ready check unanswered before it is "
        "killed and started again",
    )

    cases_dir: Path = Field(REPO_ROOT / "data", validation_alias="RURALKG_CASES_DIR")
    sources_dir: Path = Field(REPO_ROOT.parent / "shared" / "sources", validation_alias="RURALKG_SOURCES_DIR")
    batch_size: int = Field(500, ge=1, le=100_000, validation_alias="RURALKG_BATCH_SIZE")
    divisions_autoload: bool = Field(
        True,
        validation_alias="RURALKG_DIVISIONS_AUTOLOAD",
        description="`ruralkg serve` loads the official divisions in the background when the graph "
        "lacks them (or a load of them was cut short)",
    )
    divisions_within: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="RURALKG_DIVISIONS_WITHIN",
        description="comma-separated division codes: the background load takes only the divisions "
        "under them (and their ancestors); none: the whole country",
    )

    # -- the HTTP API ---------------------------------------------------------------------------
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias="RURALKG_API_KEYS",
        description="comma-separated keys accepted in X-API-Key; none: /cypher is closed",
    )
    read_requires_key: bool = Field(
        False,
        validation_alias="RURALKG_READ_REQUIRES_KEY",
        description="close the read routes to callers without a key",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="RURALKG_CORS_ORIGINS",
        description="comma-separated origins allowed by CORS; none: no CORS headers at all",
    )
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 << 20, validation_alias="RURALKG_MAX_BODY_BYTES")
    cypher_timeout: float = Field(
        5.0,
        gt=0,
        le=600,
        validation_alias="RURALKG_CYPHER_TIMEOUT",
        description="seconds a /cypher query may run",
    )
    cypher_row_cap: int = Field(1000, ge=1, le=100_000, validation_alias="RURALKG_CYPHER_ROW_CAP")
    max_answer_bytes: int = Field(
        4 << 20,
        ge=1024,
        le=1 << 30,
        validation_alias="RURALKG_MAX_ANSWER_BYTES",
        description="bytes of JSON an answer may hold (ad hoc Cypher: cut there; catalog: refused)",
    )
    cypher_concurrency: int = Field(
        2, ge=1, le=64, validation_alias="RURALKG_CYPHER_CONCURRENCY", description="/cypher queries at once"
    )
    slow_query_ms: float = Field(
        500.0, ge=0, validation_alias="RURALKG_SLOW_QUERY_MS", description="log queries slower than this"
    )
    log_format: str = Field("json", pattern="^(json|text)$", validation_alias="RURALKG_LOG_FORMAT")
    # -- the API's answer cache (api/cache.py) --------------------------------------------------
    cache_mb: float = Field(
        64.0,
        ge=0,
        le=4096,
        validation_alias="RURALKG_CACHE_MB",
        description="memory for cached catalog answers per API process, MB; 0 turns the cache off",
    )
    cache_entries: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        validation_alias="RURALKG_CACHE_ENTRIES",
        description="answers kept at most",
    )
    cache_check_ms: float = Field(
        1000.0,
        ge=0,
        le=60_000,
        validation_alias="RURALKG_CACHE_CHECK_MS",
        description="the graph's data version is read again after this long: no cached answer is "
        "served more than this after a write through our loaders committed",
    )
    cache_ttl: float = Field(
        60.0,
        gt=0,
        le=86_400,
        validation_alias="RURALKG_CACHE_TTL",
        description="seconds an answer is kept at most: the bound for writes that bypass our loaders",
    )

    @field_validator("api_keys", "cors_origins", "divisions_within", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def uses_local_server(self) -> bool:
        return not self.neo4j_uri

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def drafts_path(self) -> Path:
        """Where `ruralkg draft` writes and /review lists drafts: RURALKG_DRAFTS_DIR, else
        drafts/ in the data folder (drafts are work in progress, not curated data)."""
        return (self.drafts_dir or self.data_path / "drafts").expanduser().resolve()


def redact_uri(uri: str) -> str:
    """The URI without any user:password part, fit for logs and error messages."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@lru_cache
def get_settings() -> Settings:
    return Settings()
