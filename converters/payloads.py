"""The payload side of a record: attachment and archive-member files, malware, C2 infrastructure, URLs.

Owns file indicators (with `based-on` observed-data and `indicates` malware / ATT&CK), one malware instance per
leaf file, C2 infrastructure with its observables, location and DNS resolution, and the indicators of C2
hosts and of URLs found in mail. Called by `converters.stix` with the conversion in progress (`Scope`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from converters import filetypes, indicators, observables
from converters.graph import Graph
from converters.observables import FileNode
from converters.options import ConversionOptions
from converters.record import C2, format_time
from converters.vetting import Screen

_HTTP_PORTS = frozenset({80, 443, 8000, 8080, 8443})


class Scope(Protocol):
    """What the payload builders need from the conversion in progress."""

    graph: Graph
    level: str
    options: ConversionOptions
    sector_id: str
    screen: Screen

    def technique(self, attack_id: str) -> str: ...


@dataclass
class FileSeen:
    node: FileNode
    first_seen: datetime
    contexts: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    top_level: bool = False


@dataclass
class UrlSeen:
    first_seen: datetime
    role: str
    reconstructed: bool
    observed: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    shown_hosts: list[str] = field(default_factory=list)


def _screened(scope: Scope, seen: FileSeen) -> bool:
    """Empty files and other trivially common files (warning-listed hashes) are context, not malware."""
    node = seen.node
    if node.members:
        return False
    for algorithm, value in node.hashes.items():
        if not scope.screen.keep(algorithm.lower().replace("-", ""), value, "file"):
            return True
    if node.attachment.size == 0:
        scope.screen.summary.held_back("file: empty")
        return True
    return False


def add_files(scope: Scope, files: dict[str, FileSeen]) -> dict[str, str]:
    """Indicators for every file, malware for every leaf; returns file id -> malware id."""
    graph, level = scope.graph, scope.level
    malware: dict[str, str] = {}
    files = {file_id: seen for file_id, seen in files.items() if not _screened(scope, seen)}
    for seen in files.values():
        node = seen.node
        if node.members or node.attachment.kind in filetypes.ARCHIVE_KINDS:
            continue
        malware[node.id] = _malware(scope, seen)
    for seen in files.values():
        node, attachment = seen.node, seen.node.attachment
        if not node.hashes:
            continue
        what = "; ".join(dict.fromkeys(seen.contexts)).capitalize() + "."
        if attachment.password:
            what += " Password-protected archive; the password was stated in the mail body."
        spec = indicators.file(attachment.name, dict(node.hashes), what)
        indicator_id = indicators.add(graph, spec, level, seen.first_seen)
        for observed_id in dict.fromkeys(seen.observed):
            graph.relate("based-on", indicator_id, observed_id, level)
        targets = [malware[leaf.id] for leaf in leaves(node) if leaf.id in malware]
        for malware_id in dict.fromkeys(targets):
            graph.relate("indicates", indicator_id, malware_id, level)
        if attachment.password:
            graph.relate("indicates", indicator_id, scope.technique("T1027.013"), level)
        if seen.top_level:
            graph.relate("indicates", indicator_id, scope.technique("T1566.001"), level)
            for malware_id in dict.fromkeys(targets):
                graph.relate("delivers", scope.technique("T1566.001"), malware_id, level)
    return malware


def _malware(scope: Scope, seen: FileSeen) -> str:
    attachment = seen.node.attachment
    sample = attachment.sha256 or attachment.sha1 or attachment.md5 or seen.node.id
    family = attachment.malware_family
    label = family or f"sample {sample[:12]}"
    if attachment.kind in filetypes.DOCUMENT_KINDS:
        types = ["dropper"]
    elif attachment.kind == "lnk":
        types = ["downloader"]
    elif attachment.kind in ("exe", "scr") and attachment.c2:
        types = ["backdoor"]
    else:
        types = ["unknown"]
    name = f"{attachment.name} ({label})"
    description = f"Malicious file delivered by targeted email ({'; '.join(dict.fromkeys(seen.contexts))})."
    malware_id = scope.graph.sdo(
        "malware",
        {"sample": sample},
        scope.level,
        text=(name,),
        name=name,
        description=description,
        malware_types=types,
        is_family=False,
        sample_refs=[seen.node.id],
        capabilities=["communicates-with-c2"] if attachment.c2 else None,
    )
    scope.graph.relate("targets", malware_id, scope.sector_id, scope.level)
    scope.graph.relate("uses", malware_id, scope.technique("T1204.002"), scope.level)
    return malware_id


def add_c2(
    scope: Scope, c2s: dict[C2, tuple[datetime, list[str]]], files: dict[str, FileSeen], malware: dict[str, str]
) -> None:
    graph, level = scope.graph, scope.level
    by_c2: dict[C2, list[str]] = {}
    for file_id, seen in files.items():
        for c2 in seen.node.attachment.c2:
            if file_id in malware:
                by_c2.setdefault(c2, []).append(malware[file_id])
    for c2, (first_seen, observed) in c2s.items():
        scos = observables.network(graph, c2, level)
        host = c2.domain or urlsplit(c2.url or "").hostname or c2.ipv4 or c2.ipv6 or "unknown"
        kind = "c2-compromised" if c2.compromised_site else "c2"
        name = f"Compromised legitimate website used as C2 ({host})" if c2.compromised_site else f"C2 server {host}"
        infrastructure_id = graph.sdo(
            "infrastructure",
            {"infrastructure": f"{kind}:{host}"},
            level,
            text=(name,),
            name=name,
            description=(
                "Legitimate website taken over by the attacker and used as a C2 relay; notify the "
                "owner, block the URL rather than the site."
                if c2.compromised_site
                else "Command-and-control server contacted by malware delivered in a targeted email."
            ),
            infrastructure_types=["command-and-control"],
            first_seen=format_time(first_seen),
            labels=["compromised-legitimate-site"] if c2.compromised_site else None,
        )
        for sco_id in scos.values():
            graph.relate("consists-of", infrastructure_id, sco_id, level)
        if c2.country:
            location_id = graph.sdo(
                "location",
                {"country": c2.country},
                "clear",
                created=scope.options.hub_epoch,
                country=c2.country,
            )
            graph.relate("located-at", infrastructure_id, location_id, level)
        for ip_kind in ("ipv4", "ipv6"):
            if "domain" in scos and ip_kind in scos:
                graph.relate("resolves-to", scos["domain"], scos[ip_kind], level)
        for malware_id in dict.fromkeys(by_c2.get(c2, [])):
            graph.relate("beacons-to", malware_id, infrastructure_id, level)
            for sco_id in scos.values():
                graph.relate("communicates-with", malware_id, sco_id, level)
            if (c2.url or "").lower().startswith(("http://", "https://")) or c2.port in _HTTP_PORTS:
                graph.relate("uses", malware_id, scope.technique("T1071.001"), level)
        values = {"domain": ("domain-name", c2.domain), "ipv4": ("ipv4-addr", c2.ipv4),
                  "ipv6": ("ipv6-addr", c2.ipv6), "url": ("url", c2.url)}
        for kind_name, spec in indicators.c2_specs(c2, scope.options.freemail_domains):
            stix_kind, value = values[kind_name]
            if value and not scope.screen.keep(stix_kind, value, "C2"):
                continue
            indicator_id = indicators.add(graph, spec, level, first_seen)
            graph.relate("indicates", indicator_id, infrastructure_id, level)
            for observed_id in dict.fromkeys(observed):
                graph.relate("based-on", indicator_id, observed_id, level)
            if c2.compromised_site and kind_name in ("domain", "url"):
                graph.relate("indicates", indicator_id, scope.technique("T1584.004"), level)


def add_mail_urls(scope: Scope, urls: dict[str, UrlSeen]) -> None:
    graph, level = scope.graph, scope.level
    for value, seen in urls.items():
        role = seen.role
        spec = indicators.mail_url(value, role, seen.contexts, seen.shown_hosts, seen.reconstructed)
        indicator_id = indicators.add(graph, spec, level, seen.first_seen)
        for observed_id in dict.fromkeys(seen.observed):
            graph.relate("based-on", indicator_id, observed_id, level)
        if role == "recon":
            graph.relate("indicates", indicator_id, scope.technique("T1598.003"), level)
        else:
            graph.relate("indicates", indicator_id, scope.technique("T1566.002"), level)
            graph.relate("indicates", indicator_id, scope.technique("T1204.001"), level)


def walk(node: FileNode, where: str, top: bool = True) -> Iterator[tuple[FileNode, str, bool]]:
    yield node, ("attachment of " + where) if top else where, top
    for member in node.members:
        yield from walk(member, f"in archive {node.attachment.name} ({where})", False)


def walk_ids(node: FileNode) -> Iterator[str]:
    yield node.id
    if node.artifact_id:
        yield node.artifact_id
    for member in node.members:
        yield from walk_ids(member)


def leaves(node: FileNode) -> Iterator[FileNode]:
    if not node.members:
        yield node
    for member in node.members:
        yield from leaves(member)
