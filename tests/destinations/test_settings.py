"""Settings: the TOML file, the environment, the zero-settings default, and errors that name
the key without ever showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.destinations import (
    ConfigError,
    JsonlDestination,
    PostgresTableDestination,
    SegmentDestination,
    SqliteTableDestination,
    WebhookDestination,
    load_settings,
)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


def write(tmp_path: Path, text: str, name: str = "engage.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_no_settings_means_a_jsonl_file_next_to_the_store(store: str, tmp_path: Path) -> None:
    settings = load_settings(store, environ={})
    (configured,) = settings.destinations.values()
    assert isinstance(configured.destination, JsonlDestination)
    assert configured.destination.path == tmp_path / "shop.events.jsonl"
    assert configured.policy.max_attempts == 5
    assert settings.source == "defaults"


def test_the_file_next_to_the_store(store: str, tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[delivery]
max_attempts = 3
base_delay = 0.1
poll_interval = 2

[destinations.archive]
type = "jsonl"
path = "out/archive.jsonl"
max_bytes = 1000

[destinations.hook]
type = "webhook"
url = "https://example.com/hooks/engage"
secret_env = "HOOK_SECRET"
max_attempts = 9
batch_size = 50
timeout = 3

[destinations.segment]
type = "segment"
write_key = "wk_file"
base_url = "https://events.eu1.segmentapis.com"

[destinations.warehouse]
type = "sql"
start = "end"
""",
    )
    settings = load_settings(store, environ={"HOOK_SECRET": "hs_value"})
    archive, hook, segment, warehouse = settings.destinations.values()
    assert isinstance(archive.destination, JsonlDestination)
    assert archive.destination.path == tmp_path / "out" / "archive.jsonl"
    assert archive.destination.max_bytes == 1000
    assert archive.policy.max_attempts == 3
    assert isinstance(hook.destination, WebhookDestination)
    assert (hook.destination.batch_size, hook.destination.timeout) == (50, 3.0)
    assert hook.policy.max_attempts == 9
    assert hook.policy.base_delay == 0.1
    assert isinstance(segment.destination, SegmentDestination)
    assert segment.destination.url == "https://events.eu1.segmentapis.com/v1/batch"
    assert isinstance(warehouse.destination, SqliteTableDestination)
    assert warehouse.destination.path == tmp_path / "shop.views.db"
    assert warehouse.start_at_end
    assert settings.poll_interval == 2.0
    described = repr([c.destination.describe() for c in settings.destinations.values()])
    assert "hs_value" not in described
    assert "wk_file" not in described
    assert "/hooks/engage" not in described


def test_environment_variables_add_or_override(store: str, tmp_path: Path) -> None:
    write(tmp_path, '[destinations.segment]\ntype = "segment"\nwrite_key_env = "UNSET"\n')
    settings = load_settings(
        store,
        environ={
            "ENGAGE_SEGMENT_WRITE_KEY": "wk_env",
            "ENGAGE_WEBHOOK_URL": "http://127.0.0.1:9/in",
            "ENGAGE_WEBHOOK_SECRET": "s",
            "ENGAGE_SQL_URL": "postgresql://u:p@db.example/warehouse",
        },
    )
    assert set(settings.destinations) == {"segment", "webhook", "sql"}
    assert isinstance(settings.destinations["sql"].destination, PostgresTableDestination)
    assert settings.destinations["webhook"].destination.describe()["signed"] is True


def test_config_path_from_the_option_or_the_environment(store: str, tmp_path: Path) -> None:
    other = write(tmp_path, '[destinations.x]\ntype = "jsonl"\n', "elsewhere.toml")
    assert list(load_settings(store, str(other), environ={}).destinations) == ["x"]
    assert list(load_settings(store, environ={"ENGAGE_CONFIG": str(other)}).destinations) == ["x"]
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(store, str(tmp_path / "missing.toml"), environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[destinations.a\n", "not valid TOML"),
        ('[destinations.a]\ntype = "kafka"\n', "type must be one of"),
        ('[destinations.a]\ntype = "jsonl"\npaht = "x"\n', "unknown key 'paht'"),
        ('[destinations.a]\ntype = "webhook"\n', "url (or url_env) is required"),
        ('[destinations.a]\ntype = "webhook"\nurl = "ftp://x/y"\n', "http:// or https://"),
        ('[destinations.a]\ntype = "webhook"\nurl = "http://h:99999/"\n', "not a valid URL"),
        ('[destinations.a]\ntype = "webhook"\nurl = "https://u:pw@h/"\n', "credentials"),
        ('[destinations.a]\ntype = "segment"\nwrite_key_env = "NOPE"\n', "NOPE (write_key_env)"),
        ('[destinations.a]\ntype = "jsonl"\nmax_bytes = 0\n', "max_bytes must be"),
        ('[destinations.a]\ntype = "jsonl"\nbatch_size = true\n', "batch_size must be"),
        ('[destinations.a]\ntype = "jsonl"\nstart = "middle"\n', "start must be"),
        ('[destinations.a]\ntype = "sql"\nurl = "mysql://h/db"\n', "sqlite:/// or postgresql"),
        ('[destinations.a]\ntype = "sql"\ntable = "x; drop"\n', "plain SQL name"),
        ('[destinations."a b"]\ntype = "jsonl"\n', "letters, digits"),
        ("[delivery]\nmax_attempts = -1\n", "max_attempts must be"),
        ("[deliveries]\n", "unknown section"),
        ('[destinations.webhook]\ntype = "jsonl"\n', "ENGAGE_WEBHOOK_URL sets destination"),
        # TOML arrays where a string belongs: `in` a set of strings raised TypeError
        ('[destinations.a]\ntype = ["jsonl"]\n', "type must be one of"),
        ('[destinations.a]\ntype = "jsonl"\nstart = ["end"]\n', "start must be"),
        # urllib would quote the path and query of these in every dead letter's reason
        ('[destinations.a]\ntype = "webhook"\nurl = "https://h/a b?token=SECRET"\n', "spaces"),
        (
            '[destinations.a]\ntype = "webhook"\nurl = "https://h/?token=SECRET\\u0007"\n',
            "control characters",
        ),
        (
            '[destinations.a]\ntype = "segment"\nwrite_key = "k"\nbase_url = "https://h/ x"\n',
            "base_url must not contain spaces",
        ),
        ("[delivery]\ntimeout = nan\n", "timeout must be a number of seconds above 0"),
        ("[delivery]\npoll_interval = inf\n", "poll_interval must be"),
        ("[delivery]\npoll_interval = 0\n", "poll_interval must be"),
        ("[delivery]\nmax_delay = -inf\n", "max_delay must be"),
        ("[delivery]\nmax_retry_after = 1e300\n", "max_retry_after must be"),
        ('[destinations.a]\ntype = "webhook"\nurl = "https://h/"\ntimeout = 0\n', "timeout"),
        ("[delivery]\ncooldown = 60\nmax_cooldown = 30\n", "max_cooldown must be at least"),
        (
            '[destinations.a]\ntype = "sql"\nurl = "postgresql://u:SECRET@[::1/db"\n',
            "url is not a valid URL",
        ),
        (
            '[destinations.a]\ntype = "sql"\nurl = "postgresql://u:SECRET@h/db?foo=bar"\n',
            "not a valid PostgreSQL connection URL (ProgrammingError)",
        ),
        ('[destinations.a]\ntype = "jsonl"\npath = "a\\u0000b"\n', "NUL"),
        ('[destinations.a]\ntype = "jsonl"\npath = "~no-such-user-here/x"\n', "cannot expand"),
        ('[destinations.a]\ntype = "sql"\nurl = "sqlite:///a\\u0000b"\n', "NUL"),
    ],
)
def test_bad_settings_say_what_and_where(
    store: str, tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    environ = {"ENGAGE_WEBHOOK_URL": "https://host/tok"} if "ENGAGE_WEBHOOK" in message else {}
    with pytest.raises(ConfigError) as raised:
        load_settings(store, environ=environ)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "SECRET" not in str(raised.value)


def test_a_malformed_sql_url_in_the_environment_is_a_settings_error(store: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(store, environ={"ENGAGE_SQL_URL": "postgresql://u:s3cret@[::1/db"})
    assert "url is not a valid URL" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_cooldown_settings(store: str, tmp_path: Path) -> None:
    assert (load_settings(store, environ={}).cooldown.first,
            load_settings(store, environ={}).cooldown.longest) == (30.0, 900.0)  # fmt: skip
    write(tmp_path, "[delivery]\ncooldown = 5\nmax_cooldown = 60\n")
    cooldown = load_settings(store, environ={}).cooldown
    assert (cooldown.first, cooldown.longest) == (5.0, 60.0)


def test_secrets_never_appear_in_errors(store: str, tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[destinations.a]
type = "webhook"
url = "https://example.com/x"
secret = "whsec_VISIBLE"
secret_env = "ALSO"
""",
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(store, environ={"ALSO": "whsec_ENV"})
    assert "give secret or secret_env, not both" in str(raised.value)
    assert "VISIBLE" not in str(raised.value)
    assert "whsec_ENV" not in str(raised.value)


def test_an_in_memory_store_needs_a_sql_url(tmp_path: Path) -> None:
    path = write(tmp_path, '[destinations.w]\ntype = "sql"\n', "s.toml")
    with pytest.raises(ConfigError, match="only a SQLite store has a file to share"):
        load_settings("memory://", str(path), environ={})
