"""The per-source allowance of held refusals cannot be sidestepped, over real HTTP: IPv6
senders count by /64, all sources together hold at most ten times one source's allowance,
and behind `--forwarded-allow-ips '*'` the source is the X-Forwarded-For entry the proxy
appended, not the one the sender wrote."""

from __future__ import annotations

import itertools

from tests.web.conftest import Serve, Service
from tests.web.test_abuse import PATH, unheld, unsigned

_BODIES = itertools.count()  # a new body each time: the same one again is the same entry


def refuse(service: Service, sources: list[str]) -> int:
    """Send one unsigned request from each source (as a trusted proxy says); how many of the
    refusals were held."""
    before = len(list(service.app.held()))
    for forwarded in sources:
        body, headers = unsigned(next(_BODIES))
        answer = service.post(PATH, (body, {**headers, "X-Forwarded-For": forwarded}))
        assert answer.status_code == 401, answer.text
    return len(list(service.app.held())) - before


def test_ipv6_senders_count_by_their_64(serve: Serve) -> None:
    with serve(held_per_minute=2, forwarded_allow_ips="127.0.0.1") as service:
        assert refuse(service, [f"2001:db8:1:2::{n:x}" for n in range(1, 7)]) == 2
        assert refuse(service, ["2001:db8:1:2:ffff:1:2:3"]) == 0  # the same /64
        assert refuse(service, ["2001:db8:1:3::1", "::ffff:192.0.2.7"]) == 2  # others


def test_all_sources_together_hold_ten_times_one_allowance(serve: Serve) -> None:
    with serve(held_per_minute=1, forwarded_allow_ips="127.0.0.1") as service:
        assert refuse(service, [f"198.51.100.{n}" for n in range(1, 16)]) == 10
        assert unheld(service) == 5


def test_trusting_any_peer_takes_the_entry_nearest_it(serve: Serve) -> None:
    with serve(held_per_minute=1, forwarded_allow_ips="*") as service:
        spoofed = [f"203.0.113.{n}, 10.0.0.9" for n in range(1, 5)]
        assert refuse(service, spoofed) == 1
        assert refuse(service, ["203.0.113.1, 10.0.0.10"]) == 1
