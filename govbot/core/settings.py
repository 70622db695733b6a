"""Every setting govbot reads from its environment, in one table, parsed once.

The table is the documentation: the README's configuration table is
generated from :data:`VARIABLES` (a test keeps the two equal), and
``govbot config`` shows the values in force with secrets masked. A test also
fails when a module names a ``GOVBOT_*`` variable this table lacks.

Pure: :meth:`Settings.from_environ` parses a mapping handed to it (the
command line passes ``os.environ`` once); a bad value is a
:class:`SettingsError` that names the variable and what it must be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A variable holds a value govbot cannot use; the message names it."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as documented ("" when unset means "none")
    meaning: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "GOVBOT_HOME",
        "`.govbot/` at the repository root",
        "the data directory: the SQLite database and the generated webhook secret "
        "(`--data-dir` overrides it); found from the repository root wherever a command runs",
    ),
    Variable(
        "DATABASE_URL",
        "SQLite in `$GOVBOT_HOME`",
        "PostgreSQL (`postgresql://…`) for several workers or machines",
        secret=True,
    ),
    Variable(
        "GOVBOT_REPO_PATH",
        "this checkout",
        "dry-run: the local clone revisions are read from; the repo the site serves",
    ),
    Variable(
        "GOVBOT_CACHE_DIR",
        "`$XDG_CACHE_HOME/govbot/findings`",
        "the findings cache (content-addressed, never stale)",
    ),
    Variable(
        "GOVBOT_LOG_FORMAT",
        "`auto`",
        "`text` (human lines), `json` (one JSON object a line) or `auto`: text on a terminal, "
        "JSON otherwise",
    ),
    Variable("GOVBOT_LOG_LEVEL", "`INFO`", "`DEBUG`, `INFO`, `WARNING` or `ERROR`"),
    Variable("HOST", "`0.0.0.0` (`serve`), `127.0.0.1` (`up`)", "the address the receiver binds"),
    Variable("PORT", "`8000`", "the receiver's port"),
    Variable(
        "GOVBOT_WORKER_LEASE_SECONDS",
        "`300`",
        "how long a worker holds a delivery before another may take it over",
    ),
    Variable(
        "GOVBOT_WORKER_MAX_ATTEMPTS",
        "`8`",
        "claims of one delivery before it is parked (counted at claim: a delivery whose "
        "worker dies on it every time is parked too); `govbot requeue --parked` retries them",
    ),
    Variable("GOVBOT_CLOCK_INTERVAL", "`60`", "seconds between the clock's ticks"),
    Variable(
        "GOVBOT_RECONCILE_INTERVAL",
        "`300`",
        "seconds between the clock's reconciliation sweeps of each live forge (one also runs "
        "at start-up); `govbot reconcile` runs one at once",
    ),
    Variable(
        "GOVBOT_RECONCILE_GITHUB_REPOS",
        "`$GOVBOT_READY_REPO`, else every repository govbot has reviews of",
        "comma-separated `org/repo`s whose open pull requests reconciliation sweeps",
    ),
    Variable(
        "GOVBOT_RECONCILE_GERRIT_PROJECTS",
        "every project govbot has reviews of, else every change the account can see",
        "comma-separated Gerrit projects reconciliation queries",
    ),
    Variable(
        "GOVBOT_READY_REPO",
        "",
        "`org/repo` whose default branch `/readyz` reads to prove each live forge answers",
    ),
    Variable(
        "GOVBOT_GOVERNED_BRANCH",
        "the repository's default branch",
        "the branch whose policies judge every review",
    ),
    Variable(
        "GOVBOT_REGISTRY_DIR",
        "",
        "a directory the registry's JSON records (`products/…`, passes only, 2017A C4) are "
        "rewritten in after each merged submission, for a web server to serve",
    ),
    Variable(
        "GOVBOT_GITHUB_WEBHOOK_SECRET",
        "generated in `$GOVBOT_HOME` by `govbot up`",
        "HMAC secret of the GitHub webhook",
        secret=True,
    ),
    Variable(
        "GOVBOT_GERRIT_WEBHOOK_SECRET",
        "the GitHub one, for local use",
        "the password of HTTP Basic auth (any user) or `X-Govbot-Token` on `/webhooks/gerrit`",
        secret=True,
    ),
    Variable(
        "GOVBOT_MAX_BODY_BYTES", "`26214400` (GitHub's 25 MB)", "the largest body accepted (413)"
    ),
    Variable(
        "GOVBOT_RECEIVER_BUFFER_BYTES",
        "`67108864` (64 MiB)",
        "what the bodies being read may hold together (503 beyond)",
    ),
    Variable("GOVBOT_RECEIVER_BODIES", "`64`", "how many bodies may be read at once"),
    Variable("GOVBOT_RECEIVER_READ_TIMEOUT", "`10`", "seconds a sender may pause mid-body (408)"),
    Variable("GOVBOT_RECEIVER_BODY_DEADLINE", "`60`", "seconds a sender may take for a whole body"),
    Variable(
        "GOVBOT_GITHUB_TOKEN",
        "",
        "GitHub credentials (or the three App variables below); without any, dry-run",
        secret=True,
    ),
    Variable("GOVBOT_GITHUB_APP_ID", "", "GitHub App id"),
    Variable("GOVBOT_GITHUB_PRIVATE_KEY", "", "GitHub App private key (PEM)", secret=True),
    Variable("GOVBOT_GITHUB_PRIVATE_KEY_FILE", "", "GitHub App private key, from a file"),
    Variable("GOVBOT_GITHUB_INSTALLATION_ID", "", "GitHub App installation id"),
    Variable("GOVBOT_GITHUB_API_URL", "`https://api.github.com`", "GitHub Enterprise API URL"),
    Variable(
        "GOVBOT_GITHUB_THROTTLE",
        "`on`",
        "`off` drops the pause between GitHub requests (0.25 s, 1 s between writes); "
        "only for a local test forge",
    ),
    Variable(
        "GOVBOT_FORGE_TIMEOUT",
        "`4`",
        "seconds a GitHub or Gerrit request may go unanswered; then it is abandoned and its "
        "delivery rescheduled with backoff (a hung forge object never holds a worker longer)",
    ),
    Variable("GOVBOT_GERRIT_URL", "", "Gerrit REST base URL; without it, dry-run"),
    Variable(
        "GOVBOT_GERRIT_USER",
        "`govbot`",
        "govbot's Gerrit account (its messages are never commands)",
    ),
    Variable("GOVBOT_GERRIT_HTTP_PASSWORD", "", "its HTTP password", secret=True),
    Variable("GOVBOT_GERRIT_GITILES_URL", "", "Gitiles, to read files at a revision"),
    Variable("GOVBOT_GERRIT_LABEL", "`Verified`", "the label govbot votes its check on"),
    Variable("GOVBOT_GERRIT_RESULT_LABEL", "", "a label for the vote's result, if any"),
    Variable("GOVBOT_GERRIT_VOTE_LABEL", "`Code-Review`", "the label whose votes are ballots"),
    Variable("GOVBOT_GERRIT_SSH_HOST", "", "`govbot gerrit-listen`: SSH stream-events host"),
    Variable("GOVBOT_GERRIT_SSH_USER", "", "… its user"),
    Variable("GOVBOT_GERRIT_SSH_PORT", "`29418`", "… its port"),
    Variable("GOVBOT_GERRIT_SSH_KEYFILE", "", "… its private key file"),
)
BY_NAME = {v.name: v for v in VARIABLES}
LOG_FORMATS = ("auto", "text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _number(environ: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: not a {kind.__name__}") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r}: must be positive")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    value = raw.upper() if choices is LOG_LEVELS else raw.lower()
    if value not in choices:
        raise SettingsError(f"{name}={raw!r}: choose one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Settings:
    """The settings govbot's own modules use (the forges read their credentials themselves,
    from the same environment, by the names of :data:`VARIABLES`)."""

    home: Path | None  # None: found from the repository root (see govbot.cli.common.data_dir)
    database_url: str | None
    repo_path: Path | None
    cache_dir: Path | None
    log_format: str
    log_level: str
    worker_lease_seconds: float
    worker_max_attempts: int
    clock_interval: float
    governed_branch: str | None
    port: int
    reconcile_interval: float = 300.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        def path(name: str) -> Path | None:
            raw = environ.get(name, "").strip()
            return Path(raw) if raw else None

        return cls(
            home=path("GOVBOT_HOME"),
            database_url=environ.get("DATABASE_URL", "").strip() or None,
            repo_path=path("GOVBOT_REPO_PATH"),
            cache_dir=path("GOVBOT_CACHE_DIR"),
            log_format=_choice(environ, "GOVBOT_LOG_FORMAT", LOG_FORMATS, "auto"),
            log_level=_choice(environ, "GOVBOT_LOG_LEVEL", LOG_LEVELS, "INFO"),
            worker_lease_seconds=_number(environ, "GOVBOT_WORKER_LEASE_SECONDS", 300.0, float),
            worker_max_attempts=int(_number(environ, "GOVBOT_WORKER_MAX_ATTEMPTS", 8, int)),
            clock_interval=_number(environ, "GOVBOT_CLOCK_INTERVAL", 60.0, float),
            governed_branch=(
                environ.get("GOVBOT_GOVERNED_BRANCH", "").strip().removeprefix("refs/heads/")
                or None
            ),
            port=int(_number(environ, "PORT", 8000, int)),
            reconcile_interval=_number(environ, "GOVBOT_RECONCILE_INTERVAL", 300.0, float),
        )


def shown(environ: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(name, value as shown, meaning) of every variable: secrets masked, unset ones marked."""
    out = []
    for v in VARIABLES:
        raw = environ.get(v.name)
        if raw is None or raw == "":
            value = "(unset)"
        elif v.secret:
            value = "(set)"
        else:
            value = raw
        out.append((v.name, value, v.meaning))
    return out


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for v in VARIABLES:
        default = v.default or "none"
        lines.append(f"| `{v.name}` | {default} | {v.meaning} |")
    return "\n".join(lines) + "\n"
