"""The shape of a reported thread: step labels, who answered whom, and how fast the attacker replied.

Owns the facts the hub's thread-step extension carries (stix-mapping §1.3): `step`, `role`, `direction`,
`in_reply_to_step`, `reply_latency_seconds`. Pure functions over a `Record`.
"""

from __future__ import annotations

from dataclasses import dataclass

from converters.record import Message, Record

# incident-record role -> extension role
EXTENSION_ROLES = {"recon": "recon", "reply": "victim-reply", "attack": "attack"}


@dataclass(frozen=True)
class Step:
    index: int
    label: str
    message: Message
    role: str
    direction: str
    in_reply_to: Step | None
    reply_latency_seconds: int | None


def steps(record: Record) -> list[Step]:
    """One `Step` per message, in the record's order."""
    labels = _labels(record)
    by_message_id = {m.message_id: i for i, m in enumerate(record.messages) if m.message_id}
    out: list[Step] = []
    for index, message in enumerate(record.messages):
        parent_index = _parent(record, index, by_message_id)
        parent = out[parent_index] if parent_index is not None and parent_index < index else None
        latency = None
        if parent is not None and message.attacker_authored and parent.message.role == "reply":
            seconds = int((message.sent_at - parent.message.sent_at).total_seconds())
            latency = seconds if seconds >= 0 else None
        out.append(
            Step(
                index=index,
                label=labels[index],
                message=message,
                role=EXTENSION_ROLES[message.role],
                direction="inbound" if message.attacker_authored else "outbound",
                in_reply_to=parent,
                reply_latency_seconds=latency,
            )
        )
    return out


def _labels(record: Record) -> list[str]:
    labels: list[str] = []
    for index, message in enumerate(record.messages):
        label = (message.ref or "").strip().lstrip("#").strip() or str(index + 1)
        while label in labels:
            label += "'"
        labels.append(label)
    return labels


def _parent(record: Record, index: int, by_message_id: dict[str, int]) -> int | None:
    message = record.messages[index]
    if message.in_reply_to and message.in_reply_to in by_message_id:
        return by_message_id[message.in_reply_to]
    # Without a usable In-Reply-To, a message answers the latest earlier message from the other side.
    for earlier in range(index - 1, -1, -1):
        if record.messages[earlier].attacker_authored != message.attacker_authored:
            return earlier
    return None
