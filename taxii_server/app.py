"""The composition root: settings → storage → catalogue → services → web.

`create_app` is the only place these pieces meet. It does no work at import time; the storage connection
is opened lazily by each process (so gunicorn workers open their own after fork).
"""

from __future__ import annotations

import secrets

from flask import Flask

from converters import ConversionOptions, JsonLimits, RecordLimits

from . import access, credentials
from .accounts import Accounts, PasswordCheck
from .catalog import Catalog
from .certificates import ClientCertificates
from .feedexport.exclusions import HubExclusions
from .feedexport.service import FeedExports
from .feeds import Feeds
from .hub.allowlist import AllowListAdmin
from .hub.audit import AuditLog
from .hub.campaigns import Campaigns
from .hub.correlation import DAY_US, Policy
from .hub.correlator import Correlator
from .hub.direct_writes import DirectWrites
from .hub.intake import Intake
from .hub.leaks import LeakCheck
from .hub.polls import PollHistory
from .hub.publication_bundle import hub_identity_ids
from .hub.publishing import PublicationListener, Publishing
from .hub.reevaluation import Reevaluation
from .hub.revocation import Revocation
from .hub.services import HubServices
from .hub.share import WorkerShare, slots_for
from .hub.stats import Stats
from .paging import TokenSigner
from .sessions import ConsoleSessions
from .settings import LimitsSettings, Settings, load_settings
from .storage import Store, open_store
from .throttle import Throttle
from .web import init_app
from .web.client import ADDRESS_HEADER
from .web.services import Services


def build_services(settings: Settings, store: Store | None = None, *,
                   check_password: PasswordCheck = credentials.verify_password,
                   on_published: PublicationListener | None = None) -> Services:
    """`check_password` is injectable so that tests can count the password hashes; `on_published` observes
    every publication once written (tests import each one with MISP's importer)."""
    if store is None:
        store = open_store(settings.storage.url)
        store.initialise()  # idempotent: creates what is missing and upgrades an older schema in place
    catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    paging_key = store.get_or_create_meta("paging_key", secrets.token_hex(32))
    options = ConversionOptions(id_key=settings.conversion.id_key,
                                hub_identity_name=settings.conversion.hub_identity_name)
    audit = AuditLog(store)
    reevaluation = Reevaluation(store)
    campaigns = Campaigns(store, Correlator(store, correlation_policy(settings),
                                           warning_lists=settings.hub.correlation_warning_lists), audit)
    leak_check = LeakCheck(store, lambda: options, settings.hub.min_group_size, settings.hub.min_group_count)
    limits = settings.limits
    intake = Intake(store, options, audit, limits=record_limits(limits),
                    cpu_seconds=limits.conversion_cpu_seconds,
                    share=WorkerShare(slots_for(settings.server.threads, limits.submission_worker_share)),
                    readable_collections=lambda p: [c.id for c in access.readable(p, catalog.all())])
    direct_writes = DirectWrites(leak_check.refusals, audit)
    feeds = Feeds(
        catalog,
        store,
        TokenSigner(bytes.fromhex(paging_key)),
        settings.discovery,
        max_page_size=settings.max_page_size,
        status_retention_s=settings.status_retention_seconds,
        on_inbox=intake.from_taxii,
        json_limits=json_limits(limits),
        base_url=settings.public_base,
        reserved_identities=hub_identity_ids(options),
        future_skew_s=settings.future_skew_seconds,
        two_person_rule=settings.hub.two_person_rule,
        hooks=direct_writes,
    )
    hub = HubServices(
        intake=intake,
        campaigns=campaigns,
        publishing=Publishing(store, feeds, campaigns, audit, intake.conversion_options, settings.hub, leak_check,
                              on_published=on_published),
        revocation=Revocation(feeds, audit, reserved=hub_identity_ids(options)),
        stats=Stats(store),
        audit=audit,
        polls=PollHistory(store, catalog, settings.limits),
        allowlist=AllowListAdmin(store, audit, on_change=reevaluation.allow_list_changed),
    )
    accounts = Accounts(store, throttle=Throttle(store, settings.limits), check_password=check_password,
                        on_register_change=reevaluation.register_changed)
    exports = FeedExports(feeds, store, settings.data_dir / "feed-cache", exclusions=HubExclusions(store))
    return Services(feeds=feeds, accounts=accounts, hub=hub, sessions=ConsoleSessions(store),
                    certificates=ClientCertificates(store, settings.ca_cert.parent), limits=settings.limits,
                    json=json_limits(settings.limits), exports=exports)


def json_limits(limits: LimitsSettings) -> JsonLimits:
    return JsonLimits(max_json_string_chars=limits.max_json_string_chars,
                      max_json_array_items=limits.max_json_array_items,
                      max_json_object_members=limits.max_json_object_members)


def record_limits(limits: LimitsSettings) -> RecordLimits:
    return RecordLimits(
        json=json_limits(limits), max_records=limits.max_records, max_messages=limits.max_messages,
        max_recipients=limits.max_recipients, max_attachments=limits.max_attachments, max_urls=limits.max_urls,
        max_text_chars=limits.max_text_chars, max_field_chars=limits.max_field_chars,
    )


def correlation_policy(settings: Settings) -> Policy:
    hub = settings.hub
    return Policy(window_us=hub.correlation_window_days * DAY_US, max_organisations=hub.correlation_max_organisations,
                  max_span_us=hub.correlation_max_span_days * DAY_US, max_reports=hub.correlation_max_reports)


def create_app(settings: Settings | None = None, store: Store | None = None, *,
               check_password: PasswordCheck = credentials.verify_password,
               on_published: PublicationListener | None = None) -> Flask:
    settings = settings if settings is not None else load_settings()
    app = Flask("taxii_server")
    app.config["JSON_SORT_KEYS"] = False
    app.config[ADDRESS_HEADER] = settings.limits.client_address_header
    init_app(app, build_services(settings, store, check_password=check_password, on_published=on_published))
    return app
