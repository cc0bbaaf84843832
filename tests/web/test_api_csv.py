"""`POST /api/subscriptions/csv` over real HTTP: a `text/csv` body or a multipart file field,
the same counts `engage subscriptions import` prints, bad rows kept in an error file that is
downloaded, fixed and uploaded again; uploads far past any in-memory size streamed through in
bounded memory; the upload limit; unknown ids and paths made of them are 404."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.web.conftest import Serve, Service
from tests.web.test_api_queries import AUTH, cli, notifications

HEADER = "email,email_subscription_status,news_subscription_status\n"
ROWS = (
    "ann@example.com,SUBSCRIBED,SUBSCRIBED\n"
    "not-an-address,SUBSCRIBED,\n"
    "bob@example.com,SUBSCRIBED,\n"
    "cy@example.com,UNSUBSCRIBED,SUBSCRIBED\n"  # a group while the channel is not subscribed
)
CSV_TYPE = {"content-type": "text/csv"}


@pytest.fixture
def uploads(serve: Serve, tmp_path: Path) -> Iterator[Service]:
    with serve(api_tokens=("t1", "t2"), imports_dir=str(tmp_path / "imports"),
               deliver=False) as service:  # fmt: skip
        service.client.headers.update(AUTH)
        yield service


def _counts(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "id"}


def test_a_text_csv_body_is_imported_as_engage_subscriptions_import_does(
    uploads: Service, tmp_path: Path
) -> None:
    answer = uploads.client.post("/api/subscriptions/csv", content=HEADER + ROWS,
                                 headers=CSV_TYPE)  # fmt: skip
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["received"], report["applied"], report["rejected"]) == (4, 2, 1)
    assert report["partial"] == 1
    # the CLI on a store of its own, from the same file, prints the same counts
    path = tmp_path / "same.csv"
    path.write_text(HEADER + ROWS)
    code, printed = cli_on_fresh_store(tmp_path, "subscriptions", "import", str(path))
    assert code == 0
    assert orjson.loads(printed) == _counts(report)
    state = uploads.client.get("/api/subscriptions/email/ann@example.com").json()
    assert (state["status"], state["groups"]) == ("SUBSCRIBED", {"news": "SUBSCRIBED"})


@pytest.mark.parametrize("declared", [
    "text/csv; header=present", "text/csv; charset=utf-8; header=present",
    'text/csv; header=absent; charset="UTF-8"', "TEXT/CSV;charset=us-ascii",
])
def test_a_csv_body_may_carry_content_type_parameters(uploads: Service, declared: str) -> None:
    """RFC 4180's `header` parameter, a quoted or upper-case UTF-8 charset: all a CSV body."""
    answer = uploads.client.post("/api/subscriptions/csv", content=HEADER + ROWS,
                                 headers={"content-type": declared})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["received"] == 4


def cli_on_fresh_store(tmp_path: Path, *args: str) -> tuple[int, str]:
    from adapters.stores import open_application

    app = open_application(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        return cli(app, *args)
    finally:
        app.close()


def test_bad_rows_are_kept_downloadable_fixed_and_imported_again(uploads: Service) -> None:
    first = uploads.client.post(
        "/api/subscriptions/csv", files={"file": ("mine.csv", HEADER + ROWS, "text/csv")}
    ).json()
    errors = uploads.client.get(f"/api/imports/{first['id']}/errors.csv")
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("text/csv")
    lines = errors.text.splitlines()
    assert lines[0] == "row_number,error_code,error_message," + HEADER.strip()
    assert [line.split(",")[1] for line in lines[1:]] == [
        "INVALID_EMAIL",
        "GLOBAL_STATE_NOT_SUBSCRIBED",
    ]
    fixed = errors.text.replace("not-an-address", "dee@example.com").replace(
        "cy@example.com,,", "cy@example.com,SUBSCRIBED,"
    )  # the channel was blanked: accepted
    again = uploads.client.post("/api/subscriptions/csv", content=fixed, headers=CSV_TYPE)
    assert again.status_code == 200, again.text
    assert (again.json()["received"], again.json()["rejected"]) == (2, 0)
    assert (
        uploads.client.get(f"/api/imports/{again.json()['id']}/errors.csv").text.count("\n") == 1
    )  # its header alone
    state = uploads.client.get("/api/subscriptions/email/cy@example.com").json()
    assert state["groups"] == {"news": "SUBSCRIBED"}


@pytest.mark.parametrize("wanted", [
    "6f1e1f0e-0000-4000-8000-000000000000", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..%2Fpasswd",
    "6F1E1F0E-0000-4000-8000-000000000000", "x/../y", "6f1e1f0e00004000800000000000000",
])  # fmt: skip
def test_an_unknown_import_or_a_path_is_404(uploads: Service, wanted: str) -> None:
    secret = Path(str(uploads.app.env.get("SQLITE_DBNAME")))
    secret.with_name("passwd.errors.csv").write_text("not yours")
    answer = uploads.client.get(f"/api/imports/{wanted}/errors.csv")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "not found"


@pytest.mark.parametrize(("body", "headers", "status", "field"), [
    ("", CSV_TYPE, 400, "file"),
    ("nothing,like,segment\n1,2,3\n", CSV_TYPE, 400, "file"),
    (HEADER + ROWS, {"content-type": "application/json"}, 415, "content-type"),
    (HEADER + ROWS, {"content-type": "text/csv; charset=latin-1"}, 415, "content-type"),
    ("--x\r\nnonsense", {"content-type": "multipart/form-data; boundary=x"}, 400, "file"),
    ("--x--\r\n", {"content-type": "multipart/form-data; boundary=x"}, 400, "file"),
])  # fmt: skip
def test_a_bad_upload_applies_nothing(
    uploads: Service, body: str, headers: dict[str, str], status: int, field: str
) -> None:
    before = notifications(uploads.app)
    answer = uploads.client.post("/api/subscriptions/csv", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["reason"]
    assert notifications(uploads.app) == before


def test_other_form_fields_are_refused(uploads: Service) -> None:
    answer = uploads.client.post(
        "/api/subscriptions/csv",
        data={"note": "hi"},
        files={"file": ("a.csv", HEADER + ROWS, "text/csv")},
    )
    assert answer.status_code == 400
    without = uploads.client.post(
        "/api/subscriptions/csv", files={"upload": ("a.csv", HEADER + ROWS, "text/csv")}
    )
    assert (without.status_code, without.json()["field"]) == (400, "upload")


def test_an_unreadable_file_part_way_answers_422_with_the_rows_before(uploads: Service) -> None:
    body = (HEADER + "ann@example.com,SUBSCRIBED,\n" * 3000).encode() + b"\xff\xfe,bad\n"
    answer = uploads.client.post("/api/subscriptions/csv", content=body, headers=CSV_TYPE)
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["received"] >= 1000
    assert report["id"]
    assert "unreadable" in report["reason"]


@pytest.mark.parametrize("multipart", [False, True])
def test_an_upload_over_the_limit_is_413_and_applies_nothing(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, multipart: bool
) -> None:
    monkeypatch.setenv("ENGAGE_MAX_CSV_UPLOAD_BYTES", "10000")
    with serve(api_tokens=("t1",), imports_dir=str(tmp_path / "i")) as service:
        body = HEADER + "ann@example.com,SUBSCRIBED,\n" * 1000
        sent: dict[str, Any] = ({"files": {"file": ("a.csv", body, "text/csv")}} if multipart
                                else {"content": body, "headers": CSV_TYPE})  # fmt: skip
        headers = {**sent.pop("headers", {}), "Authorization": "Bearer t1"}
        answer = service.client.post("/api/subscriptions/csv", headers=headers, **sent)
        assert answer.status_code == 413, answer.text
        assert "ENGAGE_MAX_CSV_UPLOAD_BYTES" in answer.json()["reason"]
        assert notifications(service.app) == 0


def _rows(count: int) -> Iterator[bytes]:
    yield HEADER.encode()
    for n in range(count):
        yield f"user{n}@example.com,SUBSCRIBED,SUBSCRIBED\n".encode()


def test_fifty_thousand_rows_streamed_as_they_are_generated(uploads: Service) -> None:
    answer = uploads.client.post("/api/subscriptions/csv", content=_rows(50_000),
                                 headers=CSV_TYPE, timeout=300)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert (answer.json()["received"], answer.json()["applied"]) == (50_000, 50_000)
    last = uploads.client.get("/api/subscriptions/email/user49999@example.com").json()
    assert last["status"] == "SUBSCRIBED"


def _padded(mib: int) -> Iterator[bytes]:
    """A header, a few rows, then `mib` MiB of blank rows (spaces: read, then skipped)."""
    yield HEADER.encode() + b"pad@example.com,SUBSCRIBED,\n"
    blank = (b" " * 1023 + b"\n") * 64
    for _ in range(mib * 16):
        yield blank


def test_a_body_far_over_any_in_memory_size_is_never_held(uploads: Service) -> None:
    """40 MiB uploaded (over the webhook body limit, the API request limit, and the part of an
    upload kept in memory) while Python's allocations in this process, server and client
    together, stay a fraction of it."""
    tracemalloc.start()
    try:
        answer = uploads.client.post("/api/subscriptions/csv", content=_padded(40),
                                     headers=CSV_TYPE, timeout=300)  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.text
    assert (answer.json()["received"], answer.json()["applied"]) == (1, 1)
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 40 MiB upload"
