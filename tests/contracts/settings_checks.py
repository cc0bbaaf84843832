"""The settings half of the destination contract: whatever a destination's table in the
settings file holds, `load_settings` either builds the destination or fails with a
`ConfigError` of one clean line (it names the destination's table, it is one line, and it
never shows a secret: a secret, write key, webhook URL or database password, whether written
in the file or read from the variable a `*_env` key names). A destination's suite supplies
its type, a table that loads, tables that must not (with what the error says), and values
close to valid for its keys, so that drawn tables often get past the first check.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import redaction
from adapters.destinations import ConfigError, Settings, load_settings
from adapters.destinations.settings import COMMON_KEYS, TYPE_KEYS
from tests.contracts.providers import contract_settings

SECRET = "Zq9SeCrEt"  # in every secret value the checks write: it must never be shown
SET_VARIABLE = "ENGAGE_CONTRACT_SECRET"  # set, to a secret, in the environment given
ENVIRON = {SET_VARIABLE: f"{SECRET}-from-the-environment"}
SECRET_KEYS = frozenset({"secret", "write_key"})
TOML_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=8), max_size=3),
)


def toml(value: Any) -> str:
    """A TOML value (strings as JSON writes them, which TOML reads the same, DEL escaped)."""
    if isinstance(value, float):
        return _toml_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    assert isinstance(value, bool | int), value
    return str(value).lower()  # True → true; an int as it is


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def write_table(path: Path, kind: str, table: dict[str, Any], name: str = "d") -> Path:
    lines = [f"[destinations.{name}]", f"type = {toml(kind)}"]
    lines += [f"{key} = {toml(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_clean(error: ConfigError, name: str = "d") -> None:
    message = str(error)
    assert message.startswith(f"[destinations.{name}]: "), message
    assert "\n" not in message, message
    assert SECRET not in message, message
    assert len(message) < 500, message


class SettingsContract(ABC):
    kind: ClassVar[str]  # the settings' `type`

    @pytest.fixture
    def isolated_secrets(self) -> Iterator[None]:
        """Secrets the settings remember (to mask them in all that is printed) stay this
        test's: drawn values must not mask words in the rest of the session's output."""
        with mock.patch.object(redaction, "_remembered", set()):
            yield

    @abstractmethod
    def valid_settings(self) -> dict[str, Any]:
        """A table of this type that loads (secrets in it carry `SECRET`)."""

    @abstractmethod
    def bad_settings(self) -> list[tuple[dict[str, Any], str]]:
        """Tables of this type that must not load, each with what the error says."""

    def near_values(self) -> dict[str, st.SearchStrategy[Any]]:
        """Values close to valid, by key (any TOML value is drawn for every key as well)."""
        return {}

    def values_for(self, key: str) -> st.SearchStrategy[Any]:
        near = self.near_values().get(key, st.nothing())
        if key.endswith("_env"):
            near |= st.sampled_from([SET_VARIABLE, "ENGAGE_CONTRACT_UNSET", ""])
        if key in SECRET_KEYS:
            near |= st.text(max_size=12).map(lambda text: SECRET + text)
        return st.one_of(near, near, near, TOML_VALUES)  # near values three times in four

    def loaded(self, tmp_path: Path, table: dict[str, Any]) -> Settings:
        path = write_table(tmp_path / "engage.toml", self.kind, table)
        return load_settings(f"sqlite:///{tmp_path / 'shop.db'}", str(path), environ=ENVIRON)

    @pytest.mark.usefixtures("isolated_secrets")
    def test_valid_settings_load_and_are_described_without_secrets(self, tmp_path: Path) -> None:
        settings = self.loaded(tmp_path, self.valid_settings())
        destination = settings.destinations["d"].destination
        assert destination.name == "d"
        assert SECRET not in repr(destination.describe())

    @pytest.mark.usefixtures("isolated_secrets")
    def test_bad_settings_fail_with_one_clean_line(self, tmp_path: Path) -> None:
        for table, says in self.bad_settings():
            with pytest.raises(ConfigError) as raised:
                self.loaded(tmp_path, table)
            assert_clean(raised.value)
            assert says in str(raised.value), (table, str(raised.value))

    @pytest.mark.usefixtures("isolated_secrets")
    def test_any_settings_load_or_fail_with_one_clean_line(self, tmp_path: Path) -> None:
        keys = sorted((COMMON_KEYS | TYPE_KEYS[self.kind]) - {"type"})
        tables = st.lists(st.sampled_from(keys), unique=True, max_size=5).flatmap(
            lambda chosen: st.fixed_dictionaries({k: self.values_for(k) for k in chosen})
        )

        @contract_settings
        @given(st.builds(dict, st.just(self.valid_settings())), tables)
        def example(base: dict[str, Any], table: dict[str, Any]) -> None:
            try:
                settings = self.loaded(tmp_path, {**base, **table})
            except ConfigError as error:
                assert_clean(error)
                return
            destination = settings.destinations["d"].destination
            assert SECRET not in repr(destination.describe())
            destination.close()

        example()
