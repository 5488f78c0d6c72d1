"""Record -> one STIX 2.1 bundle (plain dicts), and its deterministic serialisation.

Owns the assembly of stix-mapping §1: observables per message, observed-data per step, indicators,
malware, C2 infrastructure and locations, ATT&CK attack patterns, the anonymised sector identity, a sighting
per sender, the analyst note for a decompression-software follow-up, the grouping that holds the thread, and
TLP 2.0 markings on every object. The reporter never appears: the hub identity creates everything.

Pure and deterministic: ids from the record and the hub key, times from the record, insertion order fixed, so
the same record gives byte-identical `bundle_bytes`. No I/O; the stix2 library is not used here (it is ~30x
slower, stix-mapping §3.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from converters import anonymisation, filetypes, indicators, markings, observables, sectors, thread
from converters.attack import TECHNIQUES
from converters.graph import Graph, text_lang
from converters.ids import KeyedIds, canonical_json
from converters.observables import THREAD_EXTENSION_ID, FileNode
from converters.options import ConversionOptions
from converters.record import C2, Record, format_time

EXTENSION_SCHEMA_URL = "https://taxii-hub.invalid/stix/extensions/email-thread-step/v1/schema.json"
_DECOMPRESSION_QUESTION = re.compile(
    r"解凍ソフト|解凍ツール|圧縮ソフト|展開ソフト|解凍.{0,12}(何|なん|教え)|decompression (software|tool)"
    r"|which (archiver|unzip)",
    re.IGNORECASE,
)
_HTTP_PORTS = frozenset({80, 443, 8000, 8080, 8443})


def bundle_bytes(bundle: dict[str, Any], pretty: bool = False) -> bytes:
    """The bundle as UTF-8 JSON with sorted keys (compact, or indented by two spaces)."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if pretty else 0)
    return orjson.dumps(bundle, option=option)


@dataclass
class _Sender:
    address: str
    display_name: str | None
    first_seen: datetime
    last_seen: datetime
    observed: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)


@dataclass
class _FileSeen:
    node: FileNode
    first_seen: datetime
    contexts: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    top_level: bool = False


def merge_bundles(bundles: Sequence[dict[str, Any]], options: ConversionOptions) -> dict[str, Any]:
    """One bundle holding the objects of several (first copy of an id wins; markings first)."""
    if len(bundles) == 1:
        return bundles[0]
    objects: dict[str, dict[str, Any]] = {}
    for bundle in bundles:
        for obj in bundle["objects"]:
            objects.setdefault(obj["id"], obj)
    ordered = sorted(objects.values(), key=lambda o: o["type"] != "marking-definition")
    bundle_id = KeyedIds(options.id_key).sdo_id("bundle", {"bundles": sorted(b["id"] for b in bundles)})
    return {"type": "bundle", "id": bundle_id, "objects": ordered}


def record_to_bundle(record: Record, options: ConversionOptions) -> dict[str, Any]:
    """The STIX 2.1 bundle of one incident record."""
    return _Conversion(record, options).run()


class _Conversion:
    def __init__(self, record: Record, options: ConversionOptions) -> None:
        self.record = record
        self.options = options
        self.ids = KeyedIds(options.id_key)
        self.record_key = {"reporter": record.reporter or "", "record": record.id}
        hub_id = self.ids.sdo_id("identity", {"hub": options.hub_identity_name})
        self.graph = Graph(self.ids, hub_id, format_time(record.reported_at))
        self.level = record.tlp
        self.strict = markings.stricter(record.tlp, "amber+strict")
        self.victim = anonymisation.victim_facts(record, options.freemail_domains)
        self.thread_ref = "REC-" + self.ids.pseudonym("thread", canonical_json(self.record_key))

    # ------------------------------------------------------------------------------------------- assembly

    def run(self) -> dict[str, Any]:
        graph = self.graph
        self._hub_objects()
        steps = thread.steps(self.record)
        context = observables.MessageContext(self.thread_ref, self.record.lang, self.victim, self.ids)
        senders: dict[str, _Sender] = {}
        files: dict[str, _FileSeen] = {}
        c2s: dict[C2, tuple[datetime, list[str]]] = {}
        urls: dict[str, tuple[datetime, str, list[str]]] = {}
        message_ids: list[str] = []
        observed_ids: list[str] = []
        for step in steps:
            message = step.message
            if not message.attacker_authored:
                email_id = observables.email_message(graph, step, context, self.strict, from_ref=None, parts=[])
                message_ids.append(email_id)
                observed_ids.append(self._observed_data(step, [email_id], self.strict))
                continue
            from_ref = observables.email_addr(graph, message.from_.address, message.from_.display_name, self.level)
            nodes = [
                file_node
                for file_node in (
                    observables.file_node(graph, a, self.level, self.options.sample_url_prefix)
                    for a in message.attachments
                )
            ]
            url_values = [u for u in dict.fromkeys(message.urls) if not self._victim_url(u)]
            url_ids = [observables.url(graph, value, self.level) for value in url_values]
            email_id = observables.email_message(
                graph,
                step,
                context,
                self.level,
                from_ref=from_ref,
                parts=[(n.attachment, n.id) for n in nodes],
            )
            refs = [email_id, from_ref, *(i for n in nodes for i in _walk_ids(n)), *url_ids]
            observed_id = self._observed_data(step, refs, self.level)
            message_ids.append(email_id)
            observed_ids.append(observed_id)

            sender = senders.setdefault(
                message.from_.address,
                _Sender(message.from_.address, message.from_.display_name, message.sent_at, message.sent_at),
            )
            sender.last_seen = max(sender.last_seen, message.sent_at)
            sender.observed.append(observed_id)
            sender.steps.append(f"#{step.label} ({message.role})")
            sender.roles.add(message.role)
            for node in nodes:
                for seen_node, context_text, top in _walk(node, f"step #{step.label}"):
                    seen = files.setdefault(seen_node.id, _FileSeen(seen_node, message.sent_at))
                    seen.contexts.append(context_text)
                    seen.observed.append(observed_id)
                    seen.top_level = seen.top_level or top
                    for c2 in seen_node.attachment.c2:
                        c2s.setdefault(c2, (message.sent_at, []))[1].append(observed_id)
            for value in url_values:
                urls.setdefault(value, (message.sent_at, message.role, []))[2].append(observed_id)

        self._senders(senders, steps)
        malware = self._files(files)
        self._c2(c2s, files, malware)
        self._mail_urls(urls)
        self._follow_up(steps, message_ids)
        self._techniques_target_sector()
        self._grouping(message_ids, observed_ids)
        return self._bundle()

    def _bundle(self) -> dict[str, Any]:
        order = ("clear", "green", "amber", "amber+strict", "red")
        definitions = [markings.marking_definition(level) for level in order if level in self.graph.levels]
        bundle_id = self.ids.sdo_id("bundle", {**self.record_key, "reported_at": self.graph.created})
        return {"type": "bundle", "id": bundle_id, "objects": [*definitions, *self.graph.objects.values()]}

    # ------------------------------------------------------------------------------------- hub-level objects

    def _hub_objects(self) -> None:
        graph, epoch = self.graph, self.options.hub_epoch
        name = self.options.hub_identity_name
        graph.add(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": graph.hub_id,
                "created": epoch,
                "modified": epoch,
                "name": name,
                "identity_class": "organization",
                "description": (
                    "Information-sharing hub: receives targeted-email reports from member organisations, "
                    "anonymises the reporters and publishes vetted STIX."
                ),
                "lang": text_lang(name),
                "object_marking_refs": markings.refs("clear"),
            }
        )
        graph.add(
            {
                "type": "extension-definition",
                "spec_version": "2.1",
                "id": THREAD_EXTENSION_ID,
                "created_by_ref": graph.hub_id,
                "created": epoch,
                "modified": epoch,
                "name": "Hub email-thread step",
                "description": (
                    "Property extension for email-message SCOs: position and role of a message in a "
                    "reported thread, and the attacker's reply latency."
                ),
                "schema": EXTENSION_SCHEMA_URL,
                "version": "1.0.0",
                "extension_types": ["property-extension"],
                "object_marking_refs": markings.refs("clear"),
            }
        )
        group = sectors.group_for(self.record.reporter, self.options.sector_groups)
        self.sector_id = graph.sdo(
            "identity",
            {"sector-group": group.key},
            "clear",
            created=epoch,
            text=(group.label,),
            name=f"Anonymised {group.label}",
            description=(
                f"Stands for one or more member organisations of the hub's {group.label}. The real "
                "reporter is known only to the hub."
            ),
            identity_class="class",
            sectors=list(group.sectors) or None,
        )

    def technique(self, attack_id: str) -> str:
        technique = TECHNIQUES[attack_id]
        return self.graph.sdo(
            "attack-pattern",
            {"mitre_attack_id": attack_id},
            "clear",
            created=self.options.hub_epoch,
            text=(technique.name,),
            name=technique.name,
            external_references=[{"source_name": "mitre-attack", "external_id": attack_id}],
            kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": technique.tactic}],
        )

    def _observed_data(self, step: thread.Step, refs: list[str], level: str) -> str:
        when = format_time(step.message.sent_at)
        return self.graph.sdo(
            "observed-data",
            {**self.record_key, "step": step.label},
            level,
            first_observed=when,
            last_observed=when,
            number_observed=1,
            object_refs=list(dict.fromkeys(refs)),
        )

    def _victim_url(self, value: str) -> bool:
        host = (urlsplit(value).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.victim.domains)

    # ----------------------------------------------------------------------------------------- senders

    def _senders(self, senders: dict[str, _Sender], steps: list[thread.Step]) -> None:
        graph, level = self.graph, self.level
        for sender in senders.values():
            domain = sender.address.rsplit("@", 1)[-1].lower()
            freemail = domain in self.options.freemail_domains
            spec = indicators.sender(sender.address, freemail, sender.steps)
            indicator_id = indicators.add(graph, spec, level, sender.first_seen)
            for observed_id in sender.observed:
                graph.relate("based-on", indicator_id, observed_id, level)
            if "recon" in sender.roles:
                graph.relate("indicates", indicator_id, self.technique("T1598"), level)
            if freemail:
                infrastructure_id = graph.sdo(
                    "infrastructure",
                    {"infrastructure": f"phishing:{sender.address}"},
                    level,
                    text=(sender.address,),
                    name=f"Free-mail sender account {sender.address}",
                    description="Free-mail account created by the attacker to send targeted email.",
                    infrastructure_types=["phishing"],
                    first_seen=format_time(sender.first_seen),
                )
                addr_id = observables.email_addr(graph, sender.address, sender.display_name, level)
                graph.relate("consists-of", infrastructure_id, addr_id, level)
                graph.relate("indicates", indicator_id, infrastructure_id, level)
                graph.relate("indicates", indicator_id, self.technique("T1585.002"), level)
            graph.sdo(
                "sighting",
                {"sighting_of_ref": indicator_id, **self.record_key},
                level,
                text=("en",),
                description=f"{len(sender.observed)} message(s) from this sender, reported by one member.",
                first_seen=format_time(sender.first_seen),
                last_seen=format_time(sender.last_seen),
                count=len(sender.observed),
                sighting_of_ref=indicator_id,
                observed_data_refs=sender.observed,
                where_sighted_refs=[self.sector_id],
            )
            self._behaviour(
                sender,
                [s for s in steps if s.message.from_.address == sender.address and s.message.attacker_authored],
            )

    def _behaviour(self, sender: _Sender, own: list[thread.Step]) -> None:
        graph, level = self.graph, self.level
        recon = [s.message for s in own if s.message.role == "recon"]
        attacks = [s.message for s in own if s.message.attachments]
        if recon and attacks and attacks[-1].sent_at > recon[0].sent_at:
            gap = int((max(a.sent_at for a in attacks) - recon[0].sent_at).total_seconds())
            window = max(86400, -(-gap // 86400) * 86400)
            spec = indicators.conversation_sequence(sender.address, window)
            indicator_id = indicators.add(graph, spec, level, recon[0].sent_at)
            graph.relate("indicates", indicator_id, self.technique("T1598"), level)
        by_subject: dict[str | None, list[datetime]] = {}
        for message in recon:
            by_subject.setdefault(message.subject, []).append(message.sent_at)
        for times in by_subject.values():
            span = int((max(times) - min(times)).total_seconds())
            if len(times) >= 2 and span <= 3600:
                spec = indicators.recon_burst(sender.address, len(times), max(60, -(-span // 60) * 60))
                indicator_id = indicators.add(graph, spec, level, min(times))
                graph.relate("indicates", indicator_id, self.technique("T1598"), level)

    # ------------------------------------------------------------------------------------ files, malware

    def _files(self, files: dict[str, _FileSeen]) -> dict[str, str]:
        """Indicators for every file, malware for every leaf; returns file id -> malware id."""
        graph, level = self.graph, self.level
        malware: dict[str, str] = {}
        for seen in files.values():
            node = seen.node
            if node.members or node.attachment.kind in filetypes.ARCHIVE_KINDS:
                continue
            malware[node.id] = self._malware(seen)
        for seen in files.values():
            node, attachment = seen.node, seen.node.attachment
            what = "; ".join(dict.fromkeys(seen.contexts)).capitalize() + "."
            if attachment.password:
                what += " Password-protected archive; the password was stated in the mail body."
            spec = indicators.file(attachment.name, dict(node.hashes), what)
            indicator_id = indicators.add(graph, spec, level, seen.first_seen)
            for observed_id in dict.fromkeys(seen.observed):
                graph.relate("based-on", indicator_id, observed_id, level)
            targets = [malware[leaf.id] for leaf in _leaves(node) if leaf.id in malware]
            for malware_id in dict.fromkeys(targets):
                graph.relate("indicates", indicator_id, malware_id, level)
            if attachment.password:
                graph.relate("indicates", indicator_id, self.technique("T1027.013"), level)
            if seen.top_level:
                graph.relate("indicates", indicator_id, self.technique("T1566.001"), level)
                for malware_id in dict.fromkeys(targets):
                    graph.relate("delivers", self.technique("T1566.001"), malware_id, level)
        return malware

    def _malware(self, seen: _FileSeen) -> str:
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
        malware_id = self.graph.sdo(
            "malware",
            {"sample": sample},
            self.level,
            text=(name,),
            name=name,
            description=description,
            malware_types=types,
            is_family=False,
            sample_refs=[seen.node.id],
            capabilities=["communicates-with-c2"] if attachment.c2 else None,
        )
        self.graph.relate("targets", malware_id, self.sector_id, self.level)
        self.graph.relate("uses", malware_id, self.technique("T1204.002"), self.level)
        return malware_id

    # --------------------------------------------------------------------------------------------- C2

    def _c2(
        self, c2s: dict[C2, tuple[datetime, list[str]]], files: dict[str, _FileSeen], malware: dict[str, str]
    ) -> None:
        graph, level = self.graph, self.level
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
                    created=self.options.hub_epoch,
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
                    graph.relate("uses", malware_id, self.technique("T1071.001"), level)
            for kind_name, spec in indicators.c2_specs(c2, self.options.freemail_domains):
                indicator_id = indicators.add(graph, spec, level, first_seen)
                graph.relate("indicates", indicator_id, infrastructure_id, level)
                for observed_id in dict.fromkeys(observed):
                    graph.relate("based-on", indicator_id, observed_id, level)
                if c2.compromised_site and kind_name in ("domain", "url"):
                    graph.relate("indicates", indicator_id, self.technique("T1584.004"), level)

    def _mail_urls(self, urls: dict[str, tuple[datetime, str, list[str]]]) -> None:
        graph, level = self.graph, self.level
        for value, (first_seen, role, observed) in urls.items():
            indicator_id = indicators.add(graph, indicators.mail_url(value, role), level, first_seen)
            for observed_id in dict.fromkeys(observed):
                graph.relate("based-on", indicator_id, observed_id, level)
            if role == "recon":
                graph.relate("indicates", indicator_id, self.technique("T1598.003"), level)
            else:
                graph.relate("indicates", indicator_id, self.technique("T1566.002"), level)
                graph.relate("indicates", indicator_id, self.technique("T1204.001"), level)

    # --------------------------------------------------------------------------- thread-level objects

    def _follow_up(self, steps: list[thread.Step], message_ids: list[str]) -> None:
        """T1592.002 and, when an archive was re-made for the recipient's software, an AMBER+STRICT note."""
        questions = [
            s
            for s in steps
            if s.message.role == "recon" and s.message.body and _DECOMPRESSION_QUESTION.search(s.message.body)
        ]
        adapted = [(s, a) for s in steps for a in s.message.attachments if a.opens_with]
        if questions or adapted:
            self.technique("T1592.002")
        if not adapted:
            return
        step, attachment = adapted[0]
        question = next((q for q in reversed(questions) if q.index < step.index), None)
        answer = step.in_reply_to if step.in_reply_to and step.in_reply_to.role == "victim-reply" else None
        text = ["The sender re-sent the archive"]
        if question is not None:
            text = [
                f"The sender asked which decompression software the recipient uses (step #{question.label}),"
                " then re-sent the archive"
            ]
        text.append(f" prepared for {attachment.opens_with} (step #{step.label})")
        if answer is not None and step.reply_latency_seconds is not None:
            minutes = round(step.reply_latency_seconds / 60)
            text.append(f", {minutes} minutes after the recipient's answer (step #{answer.label})")
        text.append(". The recipient's answer itself is not shared.")
        refs = [message_ids[s.index] for s in (question, answer, step) if s is not None]
        content = "".join(text)
        self.graph.sdo(
            "note",
            {"note": "decompression-follow-up", **self.record_key},
            self.strict,
            text=(content,),
            abstract="Archive re-made for the recipient's decompression software",
            content=content,
            object_refs=refs,
        )

    def _techniques_target_sector(self) -> None:
        for object_id in [i for i in self.graph.objects if i.startswith("attack-pattern--")]:
            self.graph.relate("targets", object_id, self.sector_id, self.level)

    def _grouping(self, message_ids: list[str], observed_ids: list[str]) -> None:
        has_victim_text = any(not m.attacker_authored for m in self.record.messages)
        name = f"Reported email thread {self.thread_ref} ({len(message_ids)} messages, reporter anonymised)"
        self.graph.sdo(
            "grouping",
            {"grouping": self.record_key},
            self.strict if has_victim_text else self.level,
            text=(name,),
            name=name,
            context="suspicious-activity",
            object_refs=[*message_ids, *observed_ids],
        )


def _walk(node: FileNode, where: str, top: bool = True) -> Iterator[tuple[FileNode, str, bool]]:
    yield node, ("attachment of " + where) if top else where, top
    for member in node.members:
        yield from _walk(member, f"in archive {node.attachment.name} ({where})", False)


def _walk_ids(node: FileNode) -> Iterator[str]:
    yield node.id
    if node.artifact_id:
        yield node.artifact_id
    for member in node.members:
        yield from _walk_ids(member)


def _leaves(node: FileNode) -> Iterator[FileNode]:
    if not node.members:
        yield node
    for member in node.members:
        yield from _leaves(member)
