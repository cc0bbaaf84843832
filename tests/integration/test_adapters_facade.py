"""The `adapters` facade is enough to embed Engage: open a store, get a provider's adapter
from the environment, ingest a signed webhook, ask what happened; every subpackage says what
it offers in `__all__`, and importing the facade loads no store or core."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

import adapters
from engage_core import Channel

TOKEN = "9f3c1b7e2d4a6058b1c3e5f7a9d2b4c6"  # the shape of an Auth Token; not a real one
URL = "https://engage.example.com/webhooks/twilio"


def test_the_documented_flow_lands_a_signed_callback(tmp_path: Path) -> None:
    app = adapters.open_application(f"sqlite:///{tmp_path / 'engage.db'}")
    twilio = adapters.adapter_for("twilio", {"ENGAGE_TWILIO_AUTH_TOKEN": TOKEN})
    assert isinstance(twilio, adapters.TwilioAdapter)
    params = {"MessageSid": "SM7", "MessageStatus": "delivered", "From": "+15005550006",
              "To": "+12135618345", "AccountSid": "AC1", "ApiVersion": "2010-04-01"}  # fmt: skip
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, params),
    }
    body = urlencode(params).encode()
    report = adapters.ingest(app, twilio, adapters.InboundRequest(body, headers, url=URL))
    assert isinstance(report, adapters.IngestReport)
    assert (report.received, report.applied) == (1, 1)
    found = app.find_message(Channel.SMS, "SM7")
    assert found is not None
    assert found.status == "delivered"
    app.close()


def test_every_facade_name_resolves_to_its_home() -> None:
    assert sorted(adapters._HOMES) == sorted(adapters.__all__)
    for name, home in adapters._HOMES.items():
        assert getattr(adapters, name) is getattr(importlib.import_module(home), name)


def test_every_subpackage_says_what_it_offers() -> None:
    for module in pkgutil.iter_modules(adapters.__path__, "adapters."):
        if not module.ispkg:
            continue
        package = importlib.import_module(module.name)
        offered = getattr(package, "__all__", None)
        assert offered, f"{module.name} has no __all__"
        for name in offered:
            assert hasattr(package, name), f"{module.name}.{name}"


def test_importing_the_facade_loads_no_store_or_core() -> None:
    probe = (
        "import sys, adapters; "
        "print(sorted(m for m in ('eventsourcing', 'engage_core.application', "
        "'adapters.providers') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
