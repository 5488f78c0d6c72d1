"""No correlation oracle: what a member sees of its own submissions never depends on other organisations' data.

The attack: a curious member submits probes carrying the same attachment hash, C2 domain, URL and sender as a
report another member sent (TLP:AMBER and TLP:RED), moving `sent_at` across the correlation window, and reads
back everything it can about its probes — the 202 answers, its submission list and each submission over the
hub API, its console home, list and submission pages, and the TAXII status of a probe sent into the inbox.
Two hubs see the same activity, except that in one the other member's reports carry the probed values and in
the other unrelated ones; the correlation step has run in both (the analyst sees the campaign in the first
only). Every answer the prober gets must be byte-identical in both.

A second test records which store methods a member's requests touch: none of the correlation index or the
candidates, and no other organisation's submissions — so neither the size nor the timing of an answer can
depend on others' reports.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from taxii_server.app import create_app
from tests.support.consoleclient import Console
from tests.support.hubflow import INBOX, ROOT, DemoHub, attachment, make_demo_hub, principal, record
from tests.support.mispcheck import PUBLISHED

PROBER, OTHER = "kita-heavy", "higashi-gas"
SHARED = {"sender": "lure@attacker.example", "url": "https://lure.attacker.example/doc",
          "hash_seed": "shared-payload", "c2": "c2.attacker.example"}
UNRELATED = {"sender": "someone@elsewhere.example", "url": "https://elsewhere.example/x",
             "hash_seed": "unrelated-payload", "c2": "c2.elsewhere.example"}
PROBE_TIMES = ("2024-01-10T09:00:00+09:00", "2024-05-01T09:00:00+09:00", "2024-05-02T09:00:00+09:00",
               "2024-07-20T09:00:00+09:00", "2025-03-01T09:00:00+09:00")
TAXII_JSON = "application/taxii+json;version=2.1"
_CSRF = re.compile(r'(name="csrf" value=")[^"]+(")')


def _report(reporter: str, ref: str, values: dict[str, str], sent_at: str, tlp: str) -> dict[str, Any]:
    made = record(reporter, ref, sender=values["sender"], subject="ご確認ください", sent_at=sent_at, tlp=tlp,
                  attachment=attachment(values["hash_seed"], c2=[{"domain": values["c2"]}]))
    made["messages"][0]["urls"] = [values["url"]]
    return made


def _deterministic(hub: DemoHub) -> DemoHub:
    """Fixed clock and sequential submission ids: the two hubs may differ only by what other members sent."""
    counter = itertools.count()
    intake = hub.services.intake
    intake.clock = lambda: 1_717_200_000_000_000
    intake.new_id = lambda: f"00000000-0000-4000-8000-{next(counter):012d}"
    feeds = hub.app.extensions["taxii_hub"].feeds
    if hasattr(feeds, "clock"):
        feeds.clock = lambda: 1_717_200_000_000_000
    return hub


def _other_members_reports(hub: DemoHub, values: dict[str, str]) -> None:
    for n, tlp in enumerate(("amber", "red")):
        response = hub.submit_record(OTHER, _report(OTHER, f"H-{n}", values, "2024-05-01T10:00:00+09:00", tlp))
        assert response.status_code == 202, response.data
    hub.services.campaigns.drain()


def _normalised_status(body: bytes) -> bytes:
    doc = orjson.loads(body)
    doc.pop("id", None)
    doc.pop("request_timestamp", None)
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def _probe(hub: DemoHub) -> list[tuple[str, bytes]]:
    """Everything the prober can read about its own probes, in order."""
    seen: list[tuple[str, bytes]] = []
    console = Console(hub).sign_in(PROBER)

    def page(path: str) -> None:
        reply = console.get(path)
        assert reply.status_code == 200, path
        seen.append((f"console {path}", _CSRF.sub(r"\1-\2", reply.get_data(as_text=True)).encode()))

    ids = []
    for n, sent_at in enumerate(PROBE_TIMES):
        for tlp in ("amber", "red"):
            reply = hub.submit_record(PROBER, _report(PROBER, f"K-{n}-{tlp}", SHARED, sent_at, tlp))
            assert reply.status_code == 202
            seen.append((f"POST probe {n} {tlp}", reply.data))
            ids.append(reply.json["id"])
            hub.services.campaigns.drain()  # correlation has run before the prober looks
            seen.append(("GET /submissions", hub.api("GET", "/submissions", PROBER).data))
            seen.append((f"GET /submissions/{ids[-1]}", hub.api("GET", f"/submissions/{ids[-1]}", PROBER).data))
    bundle = [{"type": "indicator", "spec_version": "2.1", "id": "indicator--6b1f4f0e-5a1c-4b7e-9d55-2f8a4c1d0e11",
               "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
               "pattern": f"[domain-name:value = '{SHARED['c2']}']", "pattern_type": "stix",
               "valid_from": "2024-05-01T00:00:00Z"}]
    status = hub.client().post(f"/{ROOT}/collections/{INBOX}/objects/", data=orjson.dumps({"objects": bundle}),
                               headers=hub.auth(PROBER, Accept=TAXII_JSON, **{"Content-Type": TAXII_JSON}))
    assert status.status_code == 202, status.data
    seen.append(("TAXII inbox status", _normalised_status(status.data)))
    hub.services.campaigns.drain()
    seen.append(("GET /submissions after TAXII", hub.api("GET", "/submissions", PROBER).data))
    page("/console/")
    page("/console/submissions")
    for sid in ids:
        page(f"/console/submissions/{sid}")
    return seen


# The probes move sent_at over more than a year: a span that long would make the values over-correlating and
# hide the link the positive control looks for, so the guard's span is widened here.
WIDE_SPAN = "[hub]\ncorrelation_max_span_days = 3650\n"


def _hub(tmp_path: Path, name: str, values: dict[str, str]) -> DemoHub:
    hub = _deterministic(make_demo_hub(tmp_path / name, WIDE_SPAN))
    _other_members_reports(hub, values)
    return hub


def test_a_member_probing_with_its_own_submissions_learns_nothing_of_another_members_reports(tmp_path: Path) -> None:
    reported = _hub(tmp_path, "reported", SHARED)
    quiet = _hub(tmp_path, "quiet", UNRELATED)
    try:
        with_others = _probe(reported)
        without_others = _probe(quiet)
        # positive control: correlation did link the probes to the other member's reports in one hub only
        analyst = principal("hub-analyst")
        linked = reported.services.campaigns.suggest(analyst)
        assert len(linked) == 1 and set(linked[0].organisations) == {PROBER, OTHER}
        assert quiet.services.campaigns.suggest(analyst) == []
        assert [name for name, _ in with_others] == [name for name, _ in without_others]
        for (name, a), (_, b) in zip(with_others, without_others, strict=True):
            assert a == b, f"{name} differs with and without another member's report"
        assert not any(b"in-campaign" in body for _, body in with_others)
    finally:
        reported.store.close()
        quiet.store.close()


# -- what a member's requests read ---------------------------------------------------------------------------

CORRELATION_READS = frozenset({
    "postings", "postings_of", "index_values", "values_matching", "candidates_of", "candidates_with_value",
    "get_candidate", "list_candidates", "count_candidates", "next_correlation_job", "lease_correlation",
    "list_exclusions", "overrides_of", "list_overrides", "submissions_page",
})


class RecordingStore:
    """The real store, recording every method called and its arguments."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if not callable(found):
            return found

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args + tuple(kwargs.values())))
            return found(*args, **kwargs)

        return recorded


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[DemoHub, RecordingStore]]:
    hub = make_demo_hub(tmp_path)
    _other_members_reports(hub, SHARED)
    recording = RecordingStore(hub.store)
    hub.app = create_app(hub.settings, recording, on_published=PUBLISHED)  # type: ignore[arg-type]
    yield hub, recording
    hub.store.close()


def _requests(hub: DemoHub) -> list[Callable[[], Any]]:
    probe = _report(PROBER, "K-1", SHARED, "2024-05-02T09:00:00+09:00", "red")
    console = Console(hub).sign_in(PROBER)
    return [
        lambda: hub.submit_record(PROBER, probe),
        lambda: hub.submit_record(PROBER, probe),  # the same report again: found by its own key
        lambda: hub.api("GET", "/submissions", PROBER),
        lambda: console.get("/console/"),
        lambda: console.get("/console/submissions"),
    ]


def test_a_members_requests_never_read_correlation_or_other_members_submissions(
        recorded: tuple[DemoHub, RecordingStore]) -> None:
    hub, store = recorded
    for request in _requests(hub):
        store.calls.clear()
        reply = request()
        assert reply.status_code in (200, 202)
        names = {name for name, _ in store.calls}
        assert not names & CORRELATION_READS, sorted(names & CORRELATION_READS)
        assert all(args and args[0] == PROBER for name, args in store.calls if name == "list_submissions")
        assert all(args[0] == PROBER for name, args in store.calls if name == "submission_by_digest")
    (mine,) = hub.api("GET", "/submissions", PROBER).json["submissions"]
    store.calls.clear()
    assert hub.api("GET", f"/submissions/{mine['id']}", PROBER).status_code == 200
    assert not {name for name, _ in store.calls} & CORRELATION_READS
