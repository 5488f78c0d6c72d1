"""Incident records and suspicious emails -> validator-clean, deterministic STIX 2.1.

A pure library: no Flask, no database, nothing from `taxii_server`, no I/O except what the caller passes in.

    records = load_records(data, "reports.json")          # incident-record/1, validated
    record = parse_eml(raw, "mail.eml")                   # RFC 5322 -> incident-record/1
    records = formats.read_report(data, "x.msg")          # any report format (.eml, .msg, JSON) by the registry
    bundle = record_to_bundle(record, ConversionOptions(id_key=...))
    data = bundle_bytes(bundle, pretty=False)             # orjson, sorted keys, byte-identical on reruns
"""

from converters import formats
from converters.anonymisation import sensitive_values
from converters.audit import Finding, audit_bundle
from converters.benign import known_benign
from converters.budget import UNLIMITED, Budget, BudgetExceeded
from converters.bundle import bundle_bytes, merge_bundles
from converters.eml import parse_eml
from converters.errors import (
    ConversionError,
    EmlError,
    EmlLimitExceeded,
    PatternError,
    RecordError,
    RecordLimitExceeded,
)
from converters.limits import DEFAULT_LIMITS, DEFAULT_RECORD_LIMITS, EmlLimits, RecordLimits
from converters.options import ConversionOptions
from converters.record import C2, Address, Attachment, Message, Record, load_records, record_to_dict
from converters.stix import record_to_bundle
from converters.strict_json import JsonLimits, JSONRefused
from converters.validation import stix_validator_messages
from converters.vetting import Summary

__all__ = [
    "C2",
    "DEFAULT_LIMITS",
    "DEFAULT_RECORD_LIMITS",
    "UNLIMITED",
    "Address",
    "Attachment",
    "Budget",
    "BudgetExceeded",
    "ConversionError",
    "ConversionOptions",
    "EmlError",
    "EmlLimitExceeded",
    "EmlLimits",
    "Finding",
    "JSONRefused",
    "JsonLimits",
    "Message",
    "PatternError",
    "Record",
    "RecordError",
    "RecordLimitExceeded",
    "RecordLimits",
    "Summary",
    "audit_bundle",
    "bundle_bytes",
    "formats",
    "known_benign",
    "load_records",
    "merge_bundles",
    "parse_eml",
    "record_to_bundle",
    "record_to_dict",
    "sensitive_values",
    "stix_validator_messages",
]
