"""The correlation step: keeps the materialised campaign candidates equal to what the live postings,
exclusions, splits and merges define — incrementally, one queued job at a time, off every request path.

The graph: eligible submissions are nodes; two are linked when they share a `used` evidence value (see
correlation.py) within the window and no split separates them, or when an analyst merged them. A candidate
is a connected component with reports from two or more organisations; single-organisation components are
not kept.

A job recomputes the components around a set of seed submissions (a breadth-first walk over the graph from
them) and replaces every stored candidate that touches the walk. The seeds make that exact:
- a submission taken in: itself; taken out: the members of its candidate;
- a value whose state changes with it (reports, organisations, span, member domain): every live posting of
  that value (at most max_reports + 1 — a value with more stays over-correlating either way) and the members
  of the candidates listing it;
- an exclusion, split or merge: the submissions and candidates it names;
- an allow-list entry or a register domain added or removed: like an exclusion, the values it can move.
Any member of a changed component is reachable from a seed without crossing a changed edge, so the walk
covers it. `rebuild` computes the same graph from scratch, value by value (a property test compares both).

One job at a time: the job runs under the store's correlation lease and, on SQLite, inside one write
transaction with its removal from the queue (a crash rolls it back); on MongoDB a crashed job is run again
when its lease expires. Every job is idempotent. That transaction need not reach the disk before the next
job starts (`correlation_batch`, SQLite `synchronous = NORMAL`): everything a job writes is derived from the
submissions, the register, the allow-list and the analysts' records, all committed durably before the job
was queued, so a batch lost to a power cut leaves its jobs queued and they run again.

Cost of a job: bounded by the reports it links, not by the history. A value's postings are read with a
LIMIT of max_reports + 2 (a popular value costs the same at any size, and one over the limit is only
counted); the register, allow-list and exclusions once per job.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import HubError
from ..model import CorrelationJob, Exclusion, Override, Posting, StoredCandidate, Submission
from ..storage.base import CorrelationWorkStore
from ..timestamps import now_us
from .allowlist import AllowList
from .benign_evidence import benign_check
from .correlation import (
    EVIDENCE_KINDS,
    SENDER_DOMAIN,
    USED,
    VICTIM_DOMAIN,
    Policy,
    blocked,
    build_candidate,
    close,
    crowded_state,
    eligible,
    in_register,
    links,
    merge_edges,
    postings_for,
    value_state,
)
from .reevaluation import affected_values

log = logging.getLogger("taxii_server.hub.correlator")
LEASE_US = 60_000_000
_PAGE = 2000
_MANY = 1_000_000


@dataclass
class _View:
    """What one job (or one rebuild) reads, each thing once."""

    store: CorrelationWorkStore
    policy: Policy
    exclusions: list[Exclusion]
    groups: Mapping[str, str]
    states: dict[tuple[str, str], tuple[str, list[Posting]]] = field(default_factory=dict)
    domains: dict[str, bool] = field(default_factory=dict)
    own: dict[str, list[Posting]] = field(default_factory=dict)
    overrides: dict[str, list[Override]] = field(default_factory=dict)
    submissions: dict[str, Submission | None] = field(default_factory=dict)

    def fresh(self) -> _View:
        """The same policy, exclusions and groups, with nothing read yet (for the next job, or after writes)."""
        return _View(self.store, self.policy, self.exclusions, self.groups)

    def member_domain(self, domain: str) -> bool:
        if in_register(domain, self.policy.member_domains):
            return True
        if domain not in self.domains:
            self.domains[domain] = bool(self.store.postings(VICTIM_DOMAIN, domain, 1))
        return self.domains[domain]

    def value(self, kind: str, value: str) -> tuple[str, list[Posting]]:
        """A value's state, with its postings when it is used (a crowded value's are not read)."""
        key = (kind, value)
        if key not in self.states:
            most = self.policy.max_reports
            if self.store.count_postings(kind, value, most + 1) > most:
                self.states[key] = (crowded_state(kind, value, self.exclusions), [])
            else:
                found = self.store.postings(kind, value, most + 2)
                self.states[key] = (value_state(kind, value, found, self.member_domain, self.exclusions,
                                                self.policy), found)
        return self.states[key]

    def state(self, kind: str, value: str) -> str:
        return self.value(kind, value)[0]

    def postings_of(self, sids: Iterable[str]) -> None:
        missing = [s for s in sids if s not in self.own]
        if missing:
            for sid in missing:
                self.own[sid] = []
            for p in self.store.postings_of(missing):
                if p.live:
                    self.own[p.submission_id].append(p)

    def prefetch(self, sids: Sequence[str]) -> None:
        """The postings and the splits and merges of many submissions, in one read each."""
        self.postings_of(sids)
        missing = [s for s in sids if s not in self.overrides]
        if missing:
            for sid in missing:
                self.overrides[sid] = []
            wanted = set(missing)
            for o in self.store.overrides_of(missing):  # oldest first, as overrides_of([sid]) gives them
                for sid in sorted({*o.side_a, *o.side_b} & wanted):
                    self.overrides[sid].append(o)

    def overrides_of(self, sid: str) -> list[Override]:
        if sid not in self.overrides:
            self.overrides[sid] = self.store.overrides_of([sid])
        return self.overrides[sid]

    def submission(self, sid: str) -> Submission | None:
        if sid not in self.submissions:
            self.submissions[sid] = self.store.get_submission(sid)
        return self.submissions[sid]

    def live(self, sid: str) -> bool:
        self.postings_of([sid])
        return bool(self.own[sid]) or eligible(self.submission(sid))

    def neighbours(self, sid: str) -> set[str]:
        self.postings_of([sid])
        found: set[str] = set()
        window = self.policy.window_us
        for p in self.own[sid]:
            if p.kind not in EVIDENCE_KINDS or p.first_us - p.last_us > window:
                continue
            state, others = self.value(p.kind, p.value)
            if state == USED:  # close(p, o), written out: this loop is most of a large campaign's job
                earliest, latest = p.first_us - window, p.last_us + window
                found.update(o.submission_id for o in others
                             if o.last_us >= earliest and o.first_us <= latest and o.first_us - o.last_us <= window)
        found.discard(sid)
        mine = self.overrides_of(sid)
        if not mine:
            return found
        for a, b in merge_edges(mine):
            other = b if a == sid else a if b == sid else None
            if other is not None and self.live(other):
                found.add(other)
        return {o for o in found if not blocked(sid, o, mine)}

    def candidate(self, members: Iterable[str]) -> StoredCandidate | None:
        chosen = sorted(members)
        self.postings_of(chosen)
        subs = [self.submission(sid) for sid in chosen]
        return build_candidate([s for s in subs if s is not None],
                               [p for sid in chosen for p in self.own[sid]], self.groups, self.state)


class Correlator:
    def __init__(self, store: CorrelationWorkStore, policy: Policy, clock: Callable[[], int] = now_us, *,
                 warning_lists: bool = False) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.warning_lists = warning_lists
        self.owner = f"correlator-{uuid.uuid4().hex[:12]}"

    def _view(self) -> _View:
        """The policy as it stands for this job: the configured one, plus the member register's domains, the
        hub's allow-list and (when enabled) the MISP warning lists. (A change to the register or the
        allow-list applies to later jobs; `campaigns rebuild` applies it to everything.)"""
        orgs = self.store.list_organisations()
        benign = benign_check(AllowList.load(self.store), self.warning_lists)
        configured = self.policy.known_benign
        policy = dataclasses.replace(
            self.policy,
            member_domains=self.policy.member_domains | {d for o in orgs for d in o.domains},
            known_benign=lambda kind, value: configured(kind, value) or benign(kind, value),
        )
        return _View(self.store, policy, self.store.list_exclusions(), {o.id: o.group for o in orgs})

    # -- the queue -----------------------------------------------------------------------------------------

    def step(self, batch: int = 1) -> int:
        """Run up to `batch` of the oldest jobs in one transaction (on SQLite: one commit), if no other worker
        holds the lease; how many ran."""
        if self.store.correlation_backlog()[0] == 0:
            return 0
        done = 0
        with self.store.correlation_batch():
            now = self.clock()
            if not self.store.lease_correlation(self.owner, now, now + LEASE_US):
                return 0
            while done < batch and (job := self.store.next_correlation_job()) is not None:
                try:
                    # read per job: on MongoDB the batch is no transaction, and a change to the register
                    # or the allow-list queued during the batch must be seen by its re-evaluation job
                    self.run(job)
                except HubError:
                    raise  # the store is unavailable: the job stays queued and runs again
                except Exception:  # a job that cannot run must not stop every later one
                    log.exception("correlation job %d (%s) failed and was dropped; `taxii-hub campaigns "
                                  "rebuild` recomputes everything", job.seq, job.job)
                self.store.finish_correlation_job(job.seq)
                done += 1
            self.store.release_correlation(self.owner)
        return done

    def drain(self, limit: int | None = None, batch: int = 64) -> int:
        """Run jobs until the queue is empty (or `limit` ran); how many ran."""
        done = 0
        while limit is None or done < limit:
            ran = self.step(batch if limit is None else min(batch, limit - done))
            if not ran:
                break
            done += ran
        if done:
            self.idle()
        return done

    def idle(self) -> None:
        """The queue is empty: let the store tidy up now (SQLite: checkpoint the WAL), off any job's path."""
        self.store.correlation_idle()

    def lag(self) -> tuple[int, float | None]:
        """Jobs waiting, and the age of the oldest in seconds."""
        count, oldest = self.store.correlation_backlog()
        return count, (None if oldest is None else max(0.0, (self.clock() - oldest) / 1_000_000))

    def run(self, job: CorrelationJob) -> None:
        self._run(job, self._view())

    def _run(self, job: CorrelationJob, view: _View) -> None:
        kind, _, arg = job.job.partition(":")
        if kind == "s":
            seeds = self._take_in_or_out(view, arg)
        elif kind == "v":
            value_kind, _, pattern = arg.partition("\t")
            seeds = self._values(view, value_kind, pattern)
        elif kind == "a":  # an allow-list entry added or removed (hub/reevaluation.py)
            entry_kind, _, value = arg.partition("\t")
            seeds = self._seeds_of(affected_values(self.store, entry_kind, value))
        elif kind == "o":
            seeds = set(arg.split(","))
            seeds |= self._members_of_candidates(seeds)
        else:
            log.warning("unknown correlation job %r dropped", job.job)
            return
        self._recompute(view.fresh(), seeds)

    def _members_of_candidates(self, sids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for cid in set(self.store.candidates_of(list(sids)).values()):
            stored = self.store.get_candidate(cid)
            if stored is not None:
                found.update(stored.members)
        return found

    def _take_in_or_out(self, view: _View, sid: str) -> set[str]:
        """Make a submission's postings live (or drop them) and name the seeds of what that changes."""
        s = self.store.get_submission(sid)
        stored = self.store.postings_of([sid])
        before = {(p.kind, p.value): p for p in stored if p.live}
        wanted = postings_for(s) if s is not None and eligible(s) else []
        after = {(p.kind, p.value): p for p in wanted}
        seeds = self._members_of_candidates([sid])
        if after:
            seeds.add(sid)
        domains_before = {v for k, v in before if k == VICTIM_DOMAIN}
        domains_after = {v for k, v in after if k == VICTIM_DOMAIN}
        for key in sorted(before.keys() | after.keys()):
            kind, value = key
            if kind in EVIDENCE_KINDS:
                if self.store.count_postings(kind, value, self.policy.max_reports + 2) > self.policy.max_reports + 1:
                    continue  # more than max_reports without this one: crowded before and after (not read)
                others = [p for p in self.store.postings(kind, value, self.policy.max_reports + 2)
                          if p.submission_id != sid]
                was = _state_with(view, kind, value, others, before.get(key), sid, domains_before)
                now = _state_with(view, kind, value, others, after.get(key), sid, domains_after)
                if was != now:
                    seeds.update(p.submission_id for p in others)
                    seeds |= self._members_of(self.store.candidates_with_value(kind, value))
            elif kind == VICTIM_DOMAIN and (key in before) != (key in after) \
                    and value not in view.policy.member_domains \
                    and not any(p.submission_id != sid for p in self.store.postings(kind, value, 2)):
                # the first (or last) report naming this victim domain: senders there start (or stop) counting
                senders = {p.submission_id for p in self.store.postings(SENDER_DOMAIN, value, _MANY)}
                seeds |= senders | self._members_of_candidates(senders)
        if sorted(stored, key=_key) != sorted(wanted, key=_key):
            self.store.set_postings(sid, wanted)
        return seeds

    def _members_of(self, candidate_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for cid in candidate_ids:
            stored = self.store.get_candidate(cid)
            if stored is not None:
                found.update(stored.members)
        return found

    def _values(self, view: _View, kind: str, pattern: str) -> set[str]:
        """Seeds after an exclusion of a value or a pattern was added or removed."""
        return self._seeds_of((kind, value) for value in self.store.values_matching(kind, pattern, _MANY))

    def _seeds_of(self, values: Iterable[tuple[str, str]]) -> set[str]:
        """Seeds after the state of these values may have changed."""
        seeds: set[str] = set()
        for kind, value in values:
            found = self.store.postings(kind, value, self.policy.max_reports + 2)
            if len(found) <= self.policy.max_reports + 1:
                seeds.update(p.submission_id for p in found)
            seeds |= self._members_of(self.store.candidates_with_value(kind, value))
        return seeds

    def _recompute(self, view: _View, seeds: set[str]) -> None:
        """Replace the candidates touching the walk from `seeds` by the components it finds."""
        seen: set[str] = set()
        components: list[set[str]] = []
        view.postings_of(seeds)
        for seed in sorted(seeds):
            if seed in seen or not view.live(seed):
                continue
            component, frontier = {seed}, [seed]
            while frontier:  # breadth first, a whole level read at once
                view.prefetch(frontier)
                reached: list[str] = []
                for sid in frontier:
                    for other in sorted(view.neighbours(sid)):
                        if other not in component:
                            component.add(other)
                            reached.append(other)
                frontier = reached
            seen |= component
            components.append(component)
        old = set(self.store.candidates_of(sorted(seen | seeds)).values())
        fresh = [c for c in (view.candidate(m) for m in components) if c is not None]
        unchanged = {c.id for c in fresh if c.id in old and self.store.get_candidate(c.id) == c}
        if old - unchanged or len(fresh) != len(unchanged):
            self.store.replace_candidates(sorted(old - unchanged), [c for c in fresh if c.id not in unchanged])

    # -- full recomputation --------------------------------------------------------------------------------

    def rebuild(self, reindex: bool = False, progress: Callable[[str, int], None] = lambda step, n: None) -> int:
        """Recompute every candidate from the index (and, with `reindex`, the index from the submissions);
        the result is exactly what the incremental jobs give. Holds the lease throughout. Returns how many
        candidates there are. Memory: the linked reports only (a union-find over the submissions that share
        a usable value), never a list of every submission."""
        deadline = time.monotonic() + 3600
        while not self.store.lease_correlation(self.owner, self.clock(), self.clock() + LEASE_US):
            if time.monotonic() > deadline:
                raise TimeoutError("another correlation worker holds the lease")
            time.sleep(0.2)
        try:
            self._settle_queue(reindex, progress)
            return self._rebuild_candidates(progress)
        finally:
            self.store.release_correlation(self.owner)

    def _renew(self) -> None:
        self.store.lease_correlation(self.owner, self.clock(), self.clock() + LEASE_US)

    def _settle_queue(self, reindex: bool, progress: Callable[[str, int], None]) -> None:
        """Every queued submission's postings made live (or dropped), and the queue emptied: the rebuild
        covers what the jobs would have done."""
        while (job := self.store.next_correlation_job()) is not None:
            kind, _, sid = job.job.partition(":")
            if kind == "s" and not reindex:
                self._reindex(sid)
            self.store.finish_correlation_job(job.seq)
        if reindex:
            after: str | None = None
            done = 0
            while page := self.store.submissions_page(after, _PAGE):
                with self.store.atomic():
                    for s in page:
                        self.store.set_postings(s.id, postings_for(s) if eligible(s) else [])
                after = page[-1].id
                done += len(page)
                progress("reindex", done)
                self._renew()

    def _reindex(self, sid: str) -> None:
        s = self.store.get_submission(sid)
        self.store.set_postings(sid, postings_for(s) if s is not None and eligible(s) else [])

    def _rebuild_candidates(self, progress: Callable[[str, int], None]) -> int:
        view = self._view()
        splits: dict[str, list[Override]] = {}
        overrides = self.store.list_overrides()
        for o in overrides:
            for sid in {*o.side_a, *o.side_b}:
                splits.setdefault(sid, []).append(o)
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            if blocked(a, b, splits.get(a, ())):
                return
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        after: tuple[str, str] | None = None
        scanned = 0
        org_of: dict[str, str] = {}  # of the linked reports: a component from one organisation is no candidate
        orgs: dict[str, str] = {}
        window = self.policy.window_us
        while page := self.store.index_values(after, _PAGE * 5):
            for kind, value, count in page:
                if kind in EVIDENCE_KINDS and 2 <= count <= self.policy.max_reports:
                    found = self.store.postings(kind, value, self.policy.max_reports + 2)
                    if value_state(kind, value, found, view.member_domain, view.exclusions, view.policy) != USED:
                        continue
                    if any(p.submission_id in splits for p in found):  # a split may block some pairs
                        pairs = [(a.submission_id, b.submission_id) for i, a in enumerate(found)
                                 for b in found[i + 1:] if close(a, b, window)]
                    else:
                        pairs = links(found, window)
                    for a, b in pairs:
                        union(a, b)
                    if pairs:
                        for p in found:
                            org_of[p.submission_id] = orgs.setdefault(p.org_id, p.org_id)
            after = (page[-1][0], page[-1][1])
            scanned += len(page)
            progress("values", scanned)
            self._renew()
        for a, b in merge_edges(overrides):
            if view.live(a) and view.live(b):
                union(a, b)
        components: dict[str, list[str]] = {}
        for sid in parent:
            components.setdefault(find(sid), []).append(sid)
        parent.clear()
        # Written as correlation batches: a rebuild cut short is run again, it derives everything.
        with self.store.correlation_batch():
            self.store.clear_candidates()
        made = 0
        batch: list[StoredCandidate] = []
        for members in components.values():
            if all(sid in org_of for sid in members) and len({org_of[sid] for sid in members}) < 2:
                continue  # build_candidate would find a single organisation (merged reports are read)
            made_one = view.candidate(members)
            for sid in members:
                view.own.pop(sid, None)
                view.submissions.pop(sid, None)
            if made_one is not None:
                batch.append(made_one)
            if len(batch) >= 500:
                with self.store.correlation_batch():
                    self.store.replace_candidates([], batch)
                made += len(batch)
                batch = []
                progress("candidates", made)
                self._renew()
        with self.store.correlation_batch():
            self.store.replace_candidates([], batch)
        return made + len(batch)


def _state_with(view: _View, kind: str, value: str, others: list[Posting], mine: Posting | None, sid: str,
                my_domains: set[str]) -> str:
    """A value's state with or without one submission's posting (and its victims' domains)."""
    def member_domain(domain: str) -> bool:
        if in_register(domain, view.policy.member_domains) or domain in my_domains:
            return True
        return any(p.submission_id != sid for p in view.store.postings(VICTIM_DOMAIN, domain, 2))

    postings = others + ([mine] if mine is not None else [])
    return value_state(kind, value, postings, member_domain, view.exclusions, view.policy)


def _key(p: Posting) -> tuple[str, str, str]:
    return (p.kind, p.value, p.submission_id)
