"""A store written compressed and enciphered (eventsourcing's `COMPRESSOR_TOPIC`,
`CIPHER_TOPIC` and `CIPHER_KEY`) gives the same views as a plain one: the views read each
stored event's bytes themselves (`adapters.views.records`), so they must decipher and
decompress as the application's mapper does, in its order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eventsourcing.cryptography import AESCipher

from adapters.stores import store_env
from adapters.views import VIEW_CLASSES, catch_up
from engage_core import EngageApplication
from tests.conftest import FIXED_TIME
from tests.views.workload import apply, workload


def _digests(app: EngageApplication, path: Path) -> dict[str, tuple[int, str]]:
    views = [cls(str(path)) for cls in VIEW_CLASSES.values()]
    catch_up(app, views)
    return {view.name: view.digest() for view in views}


def test_views_of_a_ciphered_store_equal_a_plain_ones(tmp_path: Path) -> None:
    secret = {
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(16),
    }
    plain = EngageApplication(env=store_env(f"sqlite:///{tmp_path / 'plain.db'}"),
                              clock=lambda: FIXED_TIME)  # fmt: skip
    ciphered = EngageApplication(
        env={**store_env(f"sqlite:///{tmp_path / 'ciphered.db'}"), **secret},
        clock=lambda: FIXED_TIME,
    )
    try:
        for batch in workload(7, messages=12, changes=12):
            apply(plain, batch)
            apply(ciphered, batch)
        assert ciphered.mapper.cipher is not None
        assert ciphered.mapper.compressor is not None
        with sqlite3.connect(tmp_path / "ciphered.db") as store:
            states = [state for (state,) in store.execute("SELECT state FROM stored_events")]
        assert states
        assert not any(b'"status"' in state for state in states)  # no state readable as stored
        expected = _digests(plain, tmp_path / "plain.views.db")
        assert all(rows for rows, _ in expected.values())
        assert _digests(ciphered, tmp_path / "ciphered.views.db") == expected
    finally:
        plain.close()
        ciphered.close()
