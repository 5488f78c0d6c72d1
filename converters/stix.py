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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from converters import anonymisation, forwards, indicators, markings, observables, payloads, sectors, thread, urls
from converters.attack import TECHNIQUES
from converters.graph import Graph, text_lang
from converters.ids import KeyedIds, canonical_json
from converters.observables import THREAD_EXTENSION_ID
from converters.options import ConversionOptions
from converters.record import C2, Message, Record, format_time
from converters.senders import domain_of, parse_address, spoofing_verdict, stix_address
from converters.vetting import Screen, Summary

EXTENSION_SCHEMA_URL = "https://taxii-hub.invalid/stix/extensions/email-thread-step/v1/schema.json"
_DECOMPRESSION_QUESTION = re.compile(
    r"解凍ソフト|解凍ツール|圧縮ソフト|展開ソフト|解凍.{0,12}(何|なん|教え)|decompression (software|tool)"
    r"|which (archiver|unzip)",
    re.IGNORECASE,
)


@dataclass
class _Sender:
    address: str
    display_name: str | None
    first_seen: datetime
    last_seen: datetime
    observed: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)
    reconstructed: bool = False


def _sender_of(message: Message) -> str | None:
    return message.from_.address if message.from_ else None


def _reconstructed(message: Message) -> bool:
    return bool(_header(message, forwards.RECONSTRUCTED_HEADER.lower()))


def _header(message: Message, name: str) -> list[str]:
    for key, value in message.headers.items():
        if key.lower() == name:
            return [value] if isinstance(value, str) else list(value)
    return []


def record_to_bundle(
    record: Record, options: ConversionOptions, summary: Summary | None = None
) -> dict[str, Any]:
    """The STIX 2.1 bundle of one incident record; `summary`, when given, is filled with what was made,
    what was held back and why, and the parser's warnings."""
    return _Conversion(record, options, summary if summary is not None else Summary()).run()


class _Conversion:
    def __init__(self, record: Record, options: ConversionOptions, summary: Summary) -> None:
        self.record = record
        self.options = options
        self.summary = summary
        self.ids = KeyedIds(options.id_key)
        self.record_key = {"reporter": record.reporter or "", "record": record.id}
        hub_id = self.ids.sdo_id("identity", {"hub": options.hub_identity_name})
        self.graph = Graph(self.ids, hub_id, format_time(record.reported_at))
        self.level = record.tlp
        self.strict = markings.stricter(record.tlp, "amber+strict")
        victim = anonymisation.victim_facts(record, options.freemail_domains)
        domains = victim.domains | {d.lower() for d in options.reporter_domains}
        self.victim = anonymisation.VictimFacts(victim.addresses, frozenset(domains), victim.message_ids)
        self.screen = Screen(options, self.victim.domains, summary)
        self.recipient_forms = urls.recipient_forms(self.victim.addresses)
        self.thread_ref = "REC-" + self.ids.pseudonym("thread", canonical_json(self.record_key))
        self._techniques: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------- assembly

    def run(self) -> dict[str, Any]:
        graph = self.graph
        self._hub_objects()
        steps = thread.steps(self.record)
        context = observables.MessageContext(
            self.thread_ref, self.record.lang, self.victim, self.ids, self.recipient_forms
        )
        senders: dict[str, _Sender] = {}
        files: dict[str, payloads.FileSeen] = {}
        c2s: dict[C2, tuple[datetime, list[str]]] = {}
        mail_urls: dict[str, payloads.UrlSeen] = {}
        message_ids: list[str] = []
        observed_ids: list[str] = []
        reply_tos: list[tuple[str, thread.Step, str]] = []
        for step in steps:
            message = step.message
            for defect in message.defects:
                self.summary.warn(f"message #{step.label}: {defect}")
            if not message.attacker_authored:
                email_id = observables.email_message(graph, step, context, self.strict, from_ref=None, parts=[])
                message_ids.append(email_id)
                observed_ids.append(self._observed_data(step, [email_id], self.strict))
                continue
            address = message.from_.address if message.from_ else None
            from_ref = None
            if address and stix_address(address):
                display = message.from_.display_name if message.from_ else None
                from_ref = observables.email_addr(graph, address, display, self.level)
            elif address:
                self.summary.warn(f"message #{step.label}: From {address[:80]!r} is kept as text (not a STIX address)")
            nodes = [
                observables.file_node(graph, a, self.level, self.options.sample_url_prefix)
                for a in message.attachments
            ]
            url_values = self._mail_urls(step)
            url_ids = [observables.url(graph, value, self.level) for value in url_values]
            email_id = observables.email_message(
                graph,
                step,
                context,
                self.level,
                from_ref=from_ref,
                parts=[(n.attachment, n.id) for n in nodes],
                from_text=address if address and from_ref is None else None,
            )
            refs = [email_id, *([from_ref] if from_ref else []), *(i for n in nodes for i in payloads.walk_ids(n))]
            observed_id = self._observed_data(step, [*refs, *url_ids], self.level)
            message_ids.append(email_id)
            observed_ids.append(observed_id)

            if from_ref is not None and address is not None and self._sender_is_indicator(step, address):
                display = message.from_.display_name if message.from_ else None
                sender = senders.setdefault(address, _Sender(address, display, message.sent_at, message.sent_at))
                sender.last_seen = max(sender.last_seen, message.sent_at)
                sender.observed.append(observed_id)
                sender.steps.append(f"#{step.label} ({message.role})")
                sender.roles.add(message.role)
                sender.reconstructed = sender.reconstructed or _reconstructed(message)
            reply_to = parse_address(_header(message, "reply-to"))
            if reply_to and (address is None or domain_of(reply_to) != domain_of(address)):
                reply_tos.append((reply_to, step, observed_id))
            for node in nodes:
                for seen_node, context_text, top in payloads.walk(node, f"step #{step.label}"):
                    seen = files.setdefault(seen_node.id, payloads.FileSeen(seen_node, message.sent_at))
                    seen.contexts.append(context_text)
                    seen.observed.append(observed_id)
                    seen.top_level = seen.top_level or top
                    for c2 in seen_node.attachment.c2:
                        c2s.setdefault(c2, (message.sent_at, []))[1].append(observed_id)
            parts = {link.url: link for link in message.links}
            for value, raw in url_values.items():
                link = parts.get(raw)
                seen_url = mail_urls.setdefault(
                    value, payloads.UrlSeen(message.sent_at, message.role, _reconstructed(message))
                )
                seen_url.observed.append(observed_id)
                where = f"{link.part if link else 'body'} of message #{step.label} ({message.role})"
                seen_url.contexts.append(where)
                if link is not None and link.shown_host:
                    seen_url.shown_hosts.append(link.shown_host)

        self._senders(senders, steps)
        self._reply_tos(reply_tos)
        malware = payloads.add_files(self, files)
        payloads.add_c2(self, c2s, files, malware)
        payloads.add_mail_urls(self, mail_urls)
        self._follow_up(steps, message_ids)
        self._techniques_target_sector()
        self._grouping(message_ids, observed_ids)
        return self._bundle()

    def _bundle(self) -> dict[str, Any]:
        definitions = [markings.marking_definition(level) for level in markings.TLP_LEVELS
                       if level in self.graph.levels]
        bundle_id = self.ids.sdo_id("bundle", {**self.record_key, "reported_at": self.graph.created})
        self.summary.indicators += sum(1 for i in self.graph.objects if i.startswith("indicator--"))
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
        """The hub's attack-pattern for an ATT&CK id (added to the bundle on first use)."""
        known = self._techniques.get(attack_id)
        if known is not None:
            return known
        technique = TECHNIQUES[attack_id]
        self._techniques[attack_id] = self.graph.sdo(
            "attack-pattern",
            {"mitre_attack_id": attack_id},
            "clear",
            created=self.options.hub_epoch,
            text=(technique.name,),
            name=technique.name,
            external_references=[{"source_name": "mitre-attack", "external_id": attack_id}],
            kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": technique.tactic}],
        )
        return self._techniques[attack_id]

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

    def _mail_urls(self, step: thread.Step) -> dict[str, str]:
        """The message's URLs that may be indicators (normalised, recipient identifiers replaced) -> the URL
        as recorded; the rest are counted in the summary with the reason."""
        message = step.message
        out: dict[str, str] = {}
        for link in message.links:
            if link.context:
                self.summary.held_back(f"URL: context ({link.context})")
        for raw in dict.fromkeys(message.urls):
            normalised = urls.normalise(raw)
            if isinstance(normalised, urls.Refused):
                self.summary.warn(f"message #{step.label}: URL {normalised.raw[:80]!r} skipped: {normalised.reason}")
                continue
            value = urls.without_recipients(normalised.value, self.recipient_forms)
            if value != normalised.value:
                self.summary.held_back("URL: recipient identifiers replaced by a placeholder (kept as indicator)")
            if self.screen.keep("url", value, "URL"):
                out.setdefault(value, raw)
        return out

    def _sender_is_indicator(self, step: thread.Step, address: str) -> bool:
        verdict = spoofing_verdict(step.message.headers, domain_of(address))
        if verdict:
            self.summary.held_back(f"sender: spoofed (receiving side {verdict})")
            return False
        if domain_of(address) in self.options.freemail_domains:
            return True  # the free-mail account is the attacker's own, whatever the lists say of the provider
        return self.screen.keep("email-addr", address, "sender")

    def _reply_tos(self, reply_tos: list[tuple[str, thread.Step, str]]) -> None:
        """A Reply-To on another domain than From is where the attacker wants the answers: a candidate."""
        graph, level = self.graph, self.level
        for address, step, observed_id in reply_tos:
            freemail = domain_of(address) in self.options.freemail_domains
            if not stix_address(address) or not (freemail or self.screen.keep("email-addr", address, "Reply-To")):
                continue
            observables.email_addr(graph, address, None, level)
            spec = indicators.reply_to(address, f"#{step.label} ({step.message.role})")
            indicator_id = indicators.add(graph, spec, level, step.message.sent_at)
            graph.relate("based-on", indicator_id, observed_id, level)

    # ----------------------------------------------------------------------------------------- senders

    def _senders(self, senders: dict[str, _Sender], steps: list[thread.Step]) -> None:
        graph, level = self.graph, self.level
        for sender in senders.values():
            domain = sender.address.rsplit("@", 1)[-1].lower()
            freemail = domain in self.options.freemail_domains
            spec = indicators.sender(sender.address, freemail, sender.steps, sender.reconstructed)
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
                [s for s in steps if _sender_of(s.message) == sender.address and s.message.attacker_authored],
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
