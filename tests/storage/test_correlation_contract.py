"""The correlation part of the storage contract (CorrelationStore), on every backend: the unique report key,
postings that count only once live, the index walk, the queue and its lease, the materialised candidates,
and the analysts' exclusions, splits and merges."""

from __future__ import annotations

import orjson

from taxii_server.model import Exclusion, Override, Posting, StoredCandidate, Submission, SubmissionContent
from taxii_server.storage.base import Store

CONTENT = SubmissionContent(b"raw", b"[]", b"{}")


def _submission(sid: str, org: str = "org-a", digest: str = "d0", at: int = 1) -> Submission:
    return Submission(sid, org, at, "http", "application/json", "converted", "amber", content_sha256=digest,
                      first_seen_us=at, last_seen_us=at)


def _posting(sid: str, kind: str = "file-hash", value: str = "sha256:aa", org: str = "org-a", live: bool = True,
             at: int = 1) -> Posting:
    return Posting(kind, value, sid, org, at, at, live)


def _candidate(cid: str, last: int, members: tuple[str, ...], evidence: tuple[tuple[str, str], ...] = ()
               ) -> StoredCandidate:
    return StoredCandidate(cid, 0, last, members, orjson.dumps({"id": cid}), evidence)


def test_a_submission_is_stored_with_its_postings_and_a_job(store: Store) -> None:
    assert store.add_submission_once(_submission("s1"), CONTENT, [_posting("s1", live=True)], 100) is None
    assert store.get_submission("s1") == _submission("s1")
    assert store.postings_of(["s1"]) == [_posting("s1", live=False)]
    assert store.postings("file-hash", "sha256:aa", 10) == []  # not live until the correlation step takes it in
    job = store.next_correlation_job()
    assert job is not None and job.job == "s:s1" and job.enqueued_us == 100
    assert store.correlation_backlog() == (1, 100)


def test_the_same_content_from_the_same_organisation_is_one_submission(store: Store) -> None:
    assert store.add_submission_once(_submission("s1"), CONTENT, [], 1) is None
    earlier = store.add_submission_once(_submission("s2"), CONTENT, [_posting("s2")], 2)
    assert earlier is not None and earlier.id == "s1"
    assert store.get_submission("s2") is None and store.postings_of(["s2"]) == []
    assert store.correlation_backlog()[0] == 1
    found = store.submission_by_digest("org-a", "d0")
    assert found is not None and found.id == "s1"


def test_the_same_content_from_another_organisation_is_its_own_submission(store: Store) -> None:
    assert store.add_submission_once(_submission("s1", "org-a"), CONTENT, [], 1) is None
    assert store.add_submission_once(_submission("s2", "org-b"), CONTENT, [], 2) is None
    assert store.submission_by_digest("org-b", "d0") == _submission("s2", "org-b")
    assert store.submission_by_digest("org-c", "d0") is None


def test_submissions_are_paged_by_id(store: Store) -> None:
    for n in (3, 1, 2):
        store.add_submission_once(_submission(f"s{n}", digest=f"d{n}"), CONTENT, [], n)
    assert [s.id for s in store.submissions_page(None, 2)] == ["s1", "s2"]
    assert [s.id for s in store.submissions_page("s2", 2)] == ["s3"]


def test_live_postings_of_a_value_come_in_submission_order_up_to_the_limit(store: Store) -> None:
    for sid in ("s3", "s1", "s2"):
        store.set_postings(sid, [_posting(sid), _posting(sid, value="other")])
    store.set_postings("s4", [_posting("s4", live=False)])
    assert [p.submission_id for p in store.postings("file-hash", "sha256:aa", 10)] == ["s1", "s2", "s3"]
    assert [p.submission_id for p in store.postings("file-hash", "sha256:aa", 2)] == ["s1", "s2"]
    store.set_postings("s2", [])
    assert [p.submission_id for p in store.postings("file-hash", "sha256:aa", 10)] == ["s1", "s3"]
    assert {(p.submission_id, p.live) for p in store.postings_of(["s3", "s4"])} == {
        ("s3", True), ("s4", False)}


def test_live_postings_of_a_value_are_counted_up_to_the_limit(store: Store) -> None:
    for sid in ("s1", "s2", "s3"):
        store.set_postings(sid, [_posting(sid), _posting(sid, value="other")])
    store.set_postings("s4", [_posting("s4", live=False)])
    assert store.count_postings("file-hash", "sha256:aa", 10) == 3  # not s4's: not live
    assert store.count_postings("file-hash", "sha256:aa", 2) == 2
    assert store.count_postings("file-hash", "sha256:bb", 10) == 0
    store.set_postings("s2", [])
    assert store.count_postings("file-hash", "sha256:aa", 10) == 2


def test_the_index_walk_counts_live_postings_per_value_in_order(store: Store) -> None:
    store.set_postings("s1", [_posting("s1", "c2-ip", "10.0.0.1"), _posting("s1", "url", "https://a.example/")])
    store.set_postings("s2", [_posting("s2", "c2-ip", "10.0.0.1"), _posting("s2", "c2-ip", "10.0.0.2")])
    store.set_postings("s3", [_posting("s3", "url", "https://b.example/", live=False)])
    first = store.index_values(None, 2)
    assert first == [("c2-ip", "10.0.0.1", 2), ("c2-ip", "10.0.0.2", 1)]
    assert store.index_values(("c2-ip", "10.0.0.2"), 10) == [("url", "https://a.example/", 1)]


def test_values_match_a_glob_and_a_bracketed_character_only_itself(store: Store) -> None:
    for n, host in enumerate(("a.cdn.example", "b.cdn.example", "cdn.example.org", "x*y.example")):
        store.set_postings(f"s{n}", [_posting(f"s{n}", "c2-domain", host)])
    assert store.values_matching("c2-domain", "*.cdn.example", 100) == ["a.cdn.example", "b.cdn.example"]
    assert store.values_matching("c2-domain", "x[*]y.example", 100) == ["x*y.example"]
    assert store.values_matching("url", "*", 100) == []


def test_jobs_are_taken_oldest_first_and_stay_until_finished(store: Store) -> None:
    store.enqueue_correlation(["s:a", "v:url\t*"], 10)
    store.enqueue_correlation(["o:x,y"], 20)
    first = store.next_correlation_job()
    assert first is not None and first.job == "s:a"
    assert store.next_correlation_job() == first
    store.finish_correlation_job(first.seq)
    assert [j.job for j in [store.next_correlation_job()] if j] == ["v:url\t*"]
    assert store.correlation_backlog() == (2, 10)


def test_one_worker_holds_the_correlation_lease_until_it_expires(store: Store) -> None:
    assert store.lease_correlation("w1", 100, 200)
    assert store.lease_correlation("w1", 150, 250)  # renewed by its owner
    assert not store.lease_correlation("w2", 200, 300)
    assert store.lease_correlation("w2", 251, 400)  # expired: taken over
    assert not store.lease_correlation("w1", 260, 300)
    store.release_correlation("w1")  # not the owner: no effect
    assert not store.lease_correlation("w1", 270, 300)
    store.release_correlation("w2")
    assert store.lease_correlation("w1", 280, 300)


def test_candidates_are_replaced_found_by_member_and_by_value(store: Store) -> None:
    a = _candidate("cand-a", 5, ("s1", "s2"), (("file-hash", "sha256:aa"),))
    b = _candidate("cand-b", 7, ("s3", "s4"), (("file-hash", "sha256:aa"), ("url", "u")))
    store.replace_candidates([], [a, b])
    assert store.get_candidate("cand-a") == a
    assert store.candidates_of(["s1", "s4", "s9"]) == {"s1": "cand-a", "s4": "cand-b"}
    assert store.candidates_with_value("file-hash", "sha256:aa") == ["cand-a", "cand-b"]
    assert store.count_candidates() == 2
    merged = _candidate("cand-c", 7, ("s1", "s2", "s3", "s4"))
    store.replace_candidates(["cand-a", "cand-b"], [merged])
    assert store.get_candidate("cand-a") is None
    assert store.candidates_of(["s1", "s3"]) == {"s1": "cand-c", "s3": "cand-c"}
    assert store.candidates_with_value("file-hash", "sha256:aa") == []
    store.clear_candidates()
    assert store.count_candidates() == 0 and store.candidates_of(["s1"]) == {}


def test_candidates_are_listed_newest_first_a_page_at_a_time(store: Store) -> None:
    made = [_candidate(f"cand-{n}", last, (f"s{n}",)) for n, last in enumerate((5, 9, 9, 1))]
    store.replace_candidates([], made)
    first = store.list_candidates(None, 2)
    assert [c.id for c in first] == ["cand-1", "cand-2"]
    rest = store.list_candidates((first[-1].last_us, first[-1].id), 10)
    assert [c.id for c in rest] == ["cand-0", "cand-3"]


def test_exclusions_and_overrides_are_kept_oldest_first(store: Store) -> None:
    e1 = Exclusion("excl-1", "c2-ip", "10.0.0.1", False, "sinkhole", "hub-analyst", 2)
    e2 = Exclusion("excl-2", "c2-domain", "*.cdn.example", True, "CDN", "hub-analyst", 1)
    store.add_exclusion(e1)
    store.add_exclusion(e2)
    assert store.list_exclusions() == [e2, e1]
    assert store.remove_exclusion("excl-1") == e1
    assert store.remove_exclusion("excl-1") is None
    assert store.list_exclusions() == [e2]
    split = Override("split-1", "split", ("s1",), ("s2", "s3"), "two actors", "hub-analyst", 5)
    merge = Override("merge-1", "merge", ("s4",), ("s1",), "same actor", "hub-analyst", 6)
    store.add_override(merge)
    store.add_override(split)
    assert store.overrides_of(["s1"]) == [split, merge]
    assert store.overrides_of(["s3"]) == [split]
    assert store.overrides_of(["s9"]) == []
    assert store.list_overrides() == [split, merge]


def test_a_correlation_batch_is_one_transaction_where_the_backend_has_them(store: Store) -> None:
    store.add_submission_once(_submission("s1"), CONTENT, [_posting("s1", live=False)], 1)
    with store.correlation_batch():
        store.set_postings("s1", [_posting("s1", live=True)])
        store.finish_correlation_job(store.next_correlation_job().seq)  # type: ignore[union-attr]
    assert store.postings("file-hash", "sha256:aa", 10) == [_posting("s1")]
    assert store.correlation_backlog() == (0, None)
    store.enqueue_correlation(["s:s1"], 2)
    try:
        with store.correlation_batch():
            store.set_postings("s1", [])
            store.finish_correlation_job(store.next_correlation_job().seq)  # type: ignore[union-attr]
            raise RuntimeError("the job failed half way")
    except RuntimeError:
        pass
    if store.transactional:  # all or nothing: the job is still queued, the postings as they were
        assert store.correlation_backlog() == (1, 2)
        assert store.postings("file-hash", "sha256:aa", 10) == [_posting("s1")]
