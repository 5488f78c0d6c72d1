"""STIX Cyber-observable objects for a record: email-message, email-addr, file, artifact, url, domain, IP.

Ids follow the spec's UUIDv5 rule (`converters.ids`), so the same attachment, address or C2 host gets the same
object in every report. Victim-authored messages become metadata-only email-messages (no sender, no body,
pseudonymised Message-IDs) marked AMBER+STRICT; attacker messages lose recipient-side headers, member-side
`Received` hops and quoted victim text (`converters.anonymisation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from converters import anonymisation, filetypes, urls
from converters.anonymisation import VictimFacts
from converters.graph import Graph
from converters.ids import KeyedIds, email_message_id, sco_id
from converters.record import C2, Attachment, Message, format_time
from converters.thread import Step

THREAD_EXTENSION_ID = "extension-definition--3b1e7c52-94d6-4f0a-8c6e-5a9d2e71b0f4"


@dataclass(frozen=True)
class FileNode:
    """A file SCO with the objects hanging off it, for indicators and malware built later."""

    id: str
    attachment: Attachment
    hashes: Mapping[str, str]
    members: tuple[FileNode, ...]
    artifact_id: str | None


def hashes_of(attachment: Attachment) -> dict[str, str]:
    out = {}
    if attachment.md5:
        out["MD5"] = attachment.md5
    if attachment.sha1:
        out["SHA-1"] = attachment.sha1
    if attachment.sha256:
        out["SHA-256"] = attachment.sha256
    return out


def email_addr(graph: Graph, address: str, display_name: str | None, level: str) -> str:
    return graph.sco(
        "email-addr",
        sco_id("email-addr", {"value": address}),
        level,
        value=address,
        display_name=display_name,
    )


def file_node(graph: Graph, attachment: Attachment, level: str, sample_url_prefix: str) -> FileNode:
    """The file SCO of an attachment or archive member; members first, so `contains_refs` can name them."""
    members = tuple(file_node(graph, member, level, sample_url_prefix) for member in attachment.members)
    hashes = hashes_of(attachment)
    extensions = {"archive-ext": {"contains_refs": [m.id for m in members]}} if members else None
    file_id = sco_id("file", {"hashes": hashes, "name": attachment.name, "extensions": extensions})
    mime_type = filetypes.published_mime_type(attachment.kind, attachment.mime_type)
    artifact_id = None
    if attachment.password:
        # stix-mapping §1.4.2: the password lives on an artifact reached via content_ref, never in the
        # file's extensions (they contribute to the file id).
        sample_hash = attachment.sha256 or attachment.sha1 or attachment.md5 or ""
        artifact_id = graph.sco(
            "artifact",
            sco_id("artifact", {"hashes": hashes}),
            level,
            mime_type=mime_type,
            url=sample_url_prefix + sample_hash,
            hashes=hashes,
            encryption_algorithm="mime-type-indicated",
            decryption_key=attachment.password,
        )
    graph.sco(
        "file",
        file_id,
        level,
        hashes=hashes,
        size=attachment.size,
        name=attachment.name,
        mime_type=mime_type,
        magic_number_hex=filetypes.magic_for(attachment.kind, attachment.name, attachment.magic),
        content_ref=artifact_id,
        extensions=extensions,
    )
    return FileNode(file_id, attachment, hashes, members, artifact_id)


def url(graph: Graph, value: str, level: str) -> str:
    return graph.sco("url", sco_id("url", {"value": value}), level, value=value)


def network(graph: Graph, c2: C2, level: str) -> dict[str, str]:
    """The SCOs of one C2 entry, by kind (`domain`, `ipv4`, `ipv6`, `url`)."""
    out: dict[str, str] = {}
    if c2.domain:
        out["domain"] = graph.sco("domain-name", sco_id("domain-name", {"value": c2.domain}), level, value=c2.domain)
    if c2.ipv4:
        out["ipv4"] = graph.sco("ipv4-addr", sco_id("ipv4-addr", {"value": c2.ipv4}), level, value=c2.ipv4)
    if c2.ipv6:
        out["ipv6"] = graph.sco("ipv6-addr", sco_id("ipv6-addr", {"value": c2.ipv6}), level, value=c2.ipv6)
    if c2.url:
        out["url"] = url(graph, c2.url, level)
    return out


# ------------------------------------------------------------------------------------------- email-message


@dataclass(frozen=True)
class MessageContext:
    thread_ref: str
    content_lang: str
    victim: VictimFacts
    ids: KeyedIds
    recipient_forms: list[tuple[str, str]] = field(default_factory=list)


def pseudonymous_message_id(ids: KeyedIds, message_id: str) -> str:
    return f"<redacted-{ids.pseudonym('message-id', message_id)}@member.invalid>"


def email_message(
    graph: Graph,
    step: Step,
    context: MessageContext,
    level: str,
    *,
    from_ref: str | None,
    parts: list[tuple[Attachment, str]],
    from_text: str | None = None,
) -> str:
    """`from_text`: a From address STIX's email-addr cannot hold, kept as the raw header text instead."""
    message = step.message
    victim = context.victim
    date = format_time(message.sent_at)
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "thread_ref": context.thread_ref,
        "step": step.label,
        "role": step.role,
        "direction": step.direction,
        "content_lang": context.content_lang,
    }
    if step.in_reply_to is not None:
        extension["in_reply_to_step"] = step.in_reply_to.label
    if step.reply_latency_seconds is not None:
        extension["reply_latency_seconds"] = step.reply_latency_seconds
    if message.attacker_authored:
        headers = _published_headers(message, context)
        if from_text:
            headers["From"] = from_text
    else:
        # The victim's own headers (its mailer, its hosts) are not shared; the thread link is.
        headers = {"In-Reply-To": _pseudonym_if_victim(message.in_reply_to, context)} if message.in_reply_to else {}
    subject = anonymisation.redact(message.subject, victim) if message.subject is not None else None

    if not message.attacker_authored:
        message_id = pseudonymous_message_id(context.ids, message.message_id) if message.message_id else None
        return graph.sco(
            "email-message",
            email_message_id(message_id, date, None),
            level,
            is_multipart=False,
            date=date,
            subject=_NO_CONTRIBUTING_PROPERTY if subject is None else subject,
            message_id=message_id,
            additional_header_fields=headers or None,
            extensions={THREAD_EXTENSION_ID: extension},
        )

    body = anonymisation.scrub_text(message.body, victim) if message.body else None
    if body and context.recipient_forms:
        body = urls.replace_forms(body, context.recipient_forms)
    _, sender_hops = anonymisation.split_received(message.received, victim)
    properties: dict[str, Any] = {
        "is_multipart": bool(parts),
        "date": date,
        "from_ref": from_ref,
        "subject": subject,
        "message_id": message.message_id,
        "additional_header_fields": headers or None,
        "received_lines": sender_hops or None,
        "extensions": {THREAD_EXTENSION_ID: extension},
    }
    if parts:
        properties["content_type"] = "multipart/mixed"
        multipart: list[dict[str, str]] = []
        if body:
            multipart.append({"content_type": "text/plain; charset=utf-8", "body": body})
        for attachment, file_id in parts:
            mime_type = filetypes.published_mime_type(attachment.kind, attachment.mime_type)
            multipart.append(
                {
                    "content_type": mime_type,
                    "content_disposition": "attachment; filename=" + _quoted(attachment.name),
                    "body_raw_ref": file_id,
                }
            )
        properties["body_multipart"] = multipart
    else:
        properties["body"] = body
    sender = graph.get(from_ref)["value"] if from_ref else None
    if all(properties.get(name) is None for name in ("from_ref", "subject", "body")):
        properties["subject"] = _NO_CONTRIBUTING_PROPERTY
    return graph.sco("email-message", email_message_id(message.message_id, date, sender), level, **properties)


# A message with no sender, no subject and no body (a saved Outlook item, a stripped mail) still gets the hub's
# UUIDv5 id; STIX then demands UUIDv4 unless an id-contributing property is present, so the (empty) subject is
# stated explicitly.
_NO_CONTRIBUTING_PROPERTY = ""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _published_headers(message: Message, context: MessageContext) -> dict[str, str | list[str]]:
    """Sender-side headers; values quoting victim Message-IDs pseudonymised; one occurrence -> a string."""
    victim = context.victim
    out: dict[str, str | list[str]] = {}
    for name, raw in message.headers.items():
        lowered = name.lower()
        if lowered in anonymisation.RECIPIENT_HEADERS or lowered.startswith("x-hub-") or lowered in (
            "in-reply-to",
            "message-id",
            "subject",
            "from",
            "date",
        ):
            continue
        values = [raw] if isinstance(raw, str) else list(raw)
        if lowered == "references":
            values = [" ".join(_pseudonym_if_victim(v, context) for v in value.split()) for value in values]
        values = [anonymisation.redact(value, victim) for value in values]
        if values:
            out[name] = values[0] if len(values) == 1 else values
    if message.in_reply_to:
        out["In-Reply-To"] = _pseudonym_if_victim(message.in_reply_to, context)
    return out


def _pseudonym_if_victim(message_id: str, context: MessageContext) -> str:
    if message_id in context.victim.message_ids:
        return pseudonymous_message_id(context.ids, message_id)
    return message_id
