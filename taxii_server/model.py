"""Frozen values passed between the layers: who is calling, what is declared, what is asked, what is returned.

No behaviour beyond small derived properties lives here, and nothing here knows HTTP or a database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

ROLES = ("member", "analyst", "admin")
# The UUIDv5 namespace of organisation identity ids (Organisation.identity_id). Fixed: changing it changes
# every organisation's identity.
ORGANISATION_NAMESPACE = uuid.UUID("e7eb377a-94f3-41cc-94e6-89ac67991ad4")
Visibility = Literal["all", "own"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: always an organisation, reached through one credential."""

    org_id: str
    group: str
    roles: frozenset[str]
    credential_id: str | None = None

    @property
    def is_analyst(self) -> bool:
        return bool(self.roles & {"analyst", "admin"})

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True)
class Organisation:
    """A member of the partnership (or the hub's own desk). `domains` are its mail domains (normalised by
    `hostnames.normalise_domain`, covering their subdomains) and `aliases` the other names it goes by: the
    register the converters and the leak check use to recognise the organisation; never published."""

    id: str
    name: str
    group: str
    roles: tuple[str, ...]
    created: str
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    @property
    def identity_id(self) -> str:
        """The organisation's STIX identity id: UUIDv5 of its id under the project's organisation namespace.
        Stable across hubs and backends; never equal to the hub's own identity ids (keyed UUIDv4 values)."""
        return f"identity--{uuid.uuid5(ORGANISATION_NAMESPACE, self.id)}"

    def principal(self, credential_id: str | None = None) -> Principal:
        """This organisation as a caller, reached through `credential_id` (None: the local operator's word)."""
        return Principal(self.id, self.group, frozenset(self.roles), credential_id)


@dataclass(frozen=True)
class Credential:
    """An API key as stored: never the key itself, only its SHA-256."""

    id: str
    org_id: str
    label: str
    created: str
    revoked: str | None = None


@dataclass(frozen=True)
class ApiRootDef:
    name: str
    title: str
    description: str = ""
    max_content_length: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class CollectionDef:
    """One TAXII collection as declared in collections/*.toml."""

    id: str
    api_root: str
    title: str
    description: str = ""
    alias: str | None = None
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    visibility: Visibility = "all"
    max_tlp: str | None = None
    media_types: tuple[str, ...] = ("application/stix+json;version=2.1",)
    direct_writes: bool = False  # with the two-person rule, the hub's side may still write here directly

    def accepts_spec_version(self, spec_version: str) -> bool:
        return f"application/stix+json;version={spec_version}" in self.media_types


@dataclass(frozen=True)
class ObjectFilter:
    """The TAXII filters of one request (§3.4), already parsed and validated.

    `versions` holds the keywords and the specific version instants (microseconds) that are ORed together;
    `spec_versions` empty means the default (latest spec version per object).
    """

    added_after_us: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    version_keywords: frozenset[str] = frozenset({"last"})
    version_instants: tuple[int, ...] = ()
    spec_versions: tuple[str, ...] = ()

    @property
    def all_versions(self) -> bool:
        return "all" in self.version_keywords


@dataclass(frozen=True)
class ObjectScope:
    """What part of a collection a caller touches: the access rules turned into a storage filter.

    `partitioned` collections (inboxes) keep one namespace per organisation; `owner` restricts reads and
    deletes to one organisation's partition (a member in an inbox). Analysts read across partitions.
    """

    collection_id: str
    partitioned: bool = False
    owner: str | None = None

    def partition_for(self, writer: str) -> str:
        return writer if self.partitioned else ""


@dataclass(frozen=True)
class ContentVersion:
    """What the part of a collection one scope sees looks like, as a change marker kept at write time.

    `tag` changes whenever a version is added to, removed from or re-dated in that part (and after the store
    is erased); equal tags mean the same content. `changed_us` is the newest change: the date_added of the
    newest addition or the instant of the latest removal (None: nothing ever changed there).
    """

    tag: str
    changed_us: int | None


@dataclass(frozen=True)
class StoredVersion:
    """One stored object version as a query returns it."""

    id: str
    type: str
    version: str
    date_added_us: int
    spec_version: str
    media_type: str
    raw: bytes


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paged query: the rows, whether more follow, and the cursor after the last row."""

    items: tuple[StoredVersion, ...]
    more: bool

    @property
    def last_cursor(self) -> int | None:
        return self.items[-1].date_added_us if self.items else None


@dataclass(frozen=True)
class NewVersion:
    """An object version about to be stored, already validated."""

    id: str
    type: str
    version: str | None  # None: an object without created/modified; the store gives it date_added
    version_us: int | None
    spec_version: str
    raw: bytes


Outcome = Literal["added", "duplicate", "conflict", "not_owner"]


@dataclass(frozen=True)
class AddResult:
    id: str
    version: str
    outcome: Outcome


@dataclass(frozen=True)
class StatusDetail:
    id: str
    version: str
    message: str | None = None


@dataclass(frozen=True)
class Status:
    """A TAXII status resource (§4.3.1) and who may read it."""

    id: str
    api_root: str
    collection_id: str
    org_id: str
    request_timestamp_us: int
    successes: tuple[StatusDetail, ...] = ()
    failures: tuple[StatusDetail, ...] = ()
    pendings: tuple[StatusDetail, ...] = ()

    @property
    def total_count(self) -> int:
        return len(self.successes) + len(self.failures) + len(self.pendings)

    @property
    def state(self) -> str:
        return "pending" if self.pendings else "complete"


@dataclass(frozen=True)
class CollectionView:
    """A collection as one caller sees it (§5.2.1): can_read/can_write computed for that caller."""

    definition: CollectionDef
    can_read: bool
    can_write: bool


@dataclass(frozen=True)
class NewKey:
    """A freshly created API key: the only moment the secret exists outside the caller's hands."""

    credential: Credential
    secret: str = field(repr=False)


# -- poll history -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PollRecord:
    """One TAXII read as the poll history keeps it: who read which collection, what was served, the answer.

    `objects`/`versions` count what the page served (distinct object ids, object versions); `first_added_us` and
    `last_added_us` are its first and last date_added (None for an empty page or an error). `object_id` is the
    object asked for on Get an Object and versions. `credential_id` is None for a password. `collection_id` is
    the collection's id whichever name (id or alias) the reader used, when the reader may see the collection.
    `count` > 1: this record stands for that many identical feed fetches (same organisation, credential,
    collection, feed, status) made from `first_at_us` to `at_us` (the poll history aggregates feed fetches).
    """

    id: str
    at_us: int
    org_id: str
    credential_id: str | None
    api_root: str
    collection_id: str
    endpoint: str  # objects, manifest, object, versions
    status: int
    objects: int = 0
    versions: int = 0
    first_added_us: int | None = None
    last_added_us: int | None = None
    more: bool = False
    object_id: str = ""
    reason: str = ""  # a refused read: the error's description, as the reader itself was told it
    count: int = 1
    first_at_us: int | None = None  # with count > 1: the first of the fetches this record stands for


# -- the sharing workflow ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """One report a member sent to the hub, and where it stands.

    `features` are the (kind, value) facts correlation links reports by (sender addresses, hashes, C2…);
    they are hub-internal, like everything here except what a publication makes public.
    """

    id: str
    org_id: str
    received_at_us: int
    source: str  # "http", "taxii" or "cli"
    media_type: str
    state: str
    tlp: str
    errors: tuple[str, ...] = ()
    record_ids: tuple[str, ...] = ()
    first_seen_us: int | None = None
    last_seen_us: int | None = None
    features: tuple[tuple[str, str], ...] = ()
    publications: tuple[str, ...] = ()
    content_sha256: str = ""


@dataclass(frozen=True)
class SubmissionContent:
    """What a submission carried, kept hub-internal: the upload as received, the incident records (JSON list)
    and the draft STIX bundle converted from them."""

    raw: bytes
    records: bytes
    draft: bytes


@dataclass(frozen=True)
class Publication:
    """Vetted intelligence the hub published (or is about to, waiting for a second analyst)."""

    id: str
    name: str
    description: str
    tlp: str
    collections: tuple[str, ...]
    submissions: tuple[str, ...]
    candidate_id: str | None
    actor: str
    approver: str | None
    state: str  # "pending-approval" or "published"
    created_us: int
    published_us: int | None = None
    object_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at_us: int
    actor: str
    action: str  # submit, reject, dismiss, publish, approve, revoke
    target: str
    details: str = ""


ALLOW_KINDS = ("domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "md5", "sha1", "sha256")


@dataclass(frozen=True)
class AllowedValue:
    """A hub-local allow-list entry: a value known to be legitimate (never an indicator), and why.
    `value` is in the normal form `hub.allowlist.normalise` gives; an ipv4-addr/ipv6-addr value may be a
    CIDR network."""

    kind: str
    value: str
    reason: str
    added_by: str
    added: str


@dataclass(frozen=True)
class ConsoleSession:
    """A web console sign-in, kept server-side. `id` is the SHA-256 of the cookie's secret (never the secret
    itself), so a copy of the store does not let anyone resume a session."""

    id: str
    org_id: str
    credential_id: str | None
    csrf: str
    lang: str
    created_us: int
    seen_us: int


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate the hub issued to an organisation, as stored: never its private key.

    `serial` is lower-case hexadecimal; `sha256` the fingerprint of the DER certificate, so a certificate is
    recognised only if it is exactly the one issued. Times are UTC text like a Credential's.
    """

    serial: str
    org_id: str
    subject: str
    sha256: str
    not_before: str
    not_after: str
    issued: str
    revoked: str | None = None


# -- correlation -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Posting:
    """One value of one submission in the correlation index: evidence (a sender address, a hash, a C2…) or a
    fact that decides whether evidence counts (`victim-domain`, `sender-domain`), with the report's time span
    and its organisation. `live` once the correlation step has taken the submission in."""

    kind: str
    value: str
    submission_id: str
    org_id: str
    first_us: int
    last_us: int
    live: bool = False


@dataclass(frozen=True)
class CorrelationJob:
    """Work for the correlation step: `s:<submission id>` (take a new or changed submission in or out),
    `v:<kind>\\t<value or glob>` (values whose standing changed) or `o:<id>,<id>…` (recompute around these
    submissions after a split or a merge)."""

    seq: int
    job: str
    enqueued_us: int


@dataclass(frozen=True)
class StoredCandidate:
    """A materialised campaign candidate: its members and its JSON document (evidence with each value's state)."""

    id: str
    first_us: int
    last_us: int
    members: tuple[str, ...]
    doc: bytes
    evidence: tuple[tuple[str, str], ...] = ()  # the (kind, value) pairs its document lists


@dataclass(frozen=True)
class Exclusion:
    """An analyst's correlation exclusion: a value (or a glob pattern of values) of one evidence kind that is
    shown but never links reports."""

    id: str
    kind: str
    value: str
    pattern: bool
    reason: str
    actor: str
    at_us: int


@dataclass(frozen=True)
class Override:
    """An analyst's split (`side_a` and `side_b` are never linked directly) or merge (`side_a[0]` and
    `side_b[0]` are linked as if they shared evidence)."""

    id: str
    action: str  # "split" or "merge"
    side_a: tuple[str, ...]
    side_b: tuple[str, ...]
    reason: str
    actor: str
    at_us: int
