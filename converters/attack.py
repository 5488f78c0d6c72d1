"""The MITRE ATT&CK techniques the hub recognises in targeted-email threads (stix-mapping §1.4.6).

The hub ships its own `attack-pattern` objects (keyed ids, hub as creator) that carry the ATT&CK id as an
external reference without a URL (validator check 302 in strict mode); it never re-publishes MITRE's objects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Technique:
    attack_id: str
    name: str
    tactic: str


TECHNIQUES = {
    t.attack_id: t
    for t in (
        Technique("T1598", "Phishing for Information", "reconnaissance"),
        Technique("T1598.003", "Phishing for Information: Spearphishing Link", "reconnaissance"),
        Technique("T1592.002", "Gather Victim Host Information: Software", "reconnaissance"),
        Technique("T1585.002", "Establish Accounts: Email Accounts", "resource-development"),
        Technique("T1584.004", "Compromise Infrastructure: Server", "resource-development"),
        Technique("T1566.001", "Phishing: Spearphishing Attachment", "initial-access"),
        Technique("T1566.002", "Phishing: Spearphishing Link", "initial-access"),
        Technique("T1204.001", "User Execution: Malicious Link", "execution"),
        Technique("T1204.002", "User Execution: Malicious File", "execution"),
        Technique("T1027.013", "Obfuscated Files or Information: Encrypted/Encoded File", "defense-evasion"),
        Technique("T1071.001", "Application Layer Protocol: Web Protocols", "command-and-control"),
    )
}
