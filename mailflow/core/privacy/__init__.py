"""Identity taken out of everything shown to someone without identity rights: fail closed.

Only roles in mailflow.vocabulary.IDENTITY_ROLES see who reported a complaint. Everyone
else, and every listing and export (`mailflow tickets`, `mailflow show` without
`--with-identity`, the demo), reads the same ticket through a `Redactor`: the subject, the
description, replies, notes and attachment names with the reporter's name and address
hidden wherever they recur, names and addresses written in sentences and signatures
hidden, every NIK, phone number (landlines too, in any grouping) and email address
hidden. Where it cannot tell whether a word is identity, it hides it: in free text by
generous rules around the places residents write identity (mailflow.core.privacy.text),
in subjects and file names, which have no such places, by keeping only known words
(mailflow.core.privacy.short).

The database keeps what the resident sent (subject, file names) for the verifier; the
description is stored with its numbers already hidden (extraction does that). Scrubbing
happens on every way out, so a rule improved later protects old tickets too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailflow.config import Config
from mailflow.core.identity import Identity
from mailflow.core.identity.shapes import redact_numbers, replace_spans
from mailflow.core.privacy.short import keep_known_words, scrub_filename_words
from mailflow.core.privacy.text import identity_words, text_spans
from mailflow.core.tickets import EventPlan
from mailflow.vocabulary import IDENTITY_ROLES, EventKind

__all__ = ["Redactor", "identity_view", "redact", "redactor_for", "scrub"]


def redact(text: str) -> str:
    """Hide NIKs, phone numbers and other identity numbers written anywhere in `text`.

    Extraction stores the description this way, so that numbers a resident wrote
    mid-sentence never reach the database's text columns in the clear.
    """
    return redact_numbers(text)


@dataclass(frozen=True)
class Redactor:
    """What one reader without identity rights may see of one ticket.

    `identity` is the reporter's (possibly empty: the rules that need no identity still
    apply); `keep` holds addresses that are never a resident's (staff, the village inbox),
    lower-cased, so that an audit note naming the assigned officer stays readable.
    """

    identity: Identity = field(default_factory=Identity)
    keep: frozenset[str] = frozenset()

    def text(self, text: str) -> str:
        """Free text: a description, a reply, a note."""
        return replace_spans(text, text_spans(text, self.identity, self.keep))

    def subject(self, subject: str) -> str:
        """A subject: free-text rules first, then only known words stay."""
        return keep_known_words(self.text(subject), identity_words(self.identity))

    def filename(self, name: str) -> str:
        """An attachment's name: only known words, short numbers and the extension stay."""
        return scrub_filename_words(name, identity_words(self.identity))


def redactor_for(cfg: Config, identity: Identity | None) -> Redactor:
    """The redactor for one ticket in this village: staff and inbox addresses stay visible."""
    keep = {member.address for member in cfg.staff}
    keep |= {cfg.smtp.from_address.lower(), cfg.imap.username.lower()}
    if cfg.commands.admin_address:
        keep.add(cfg.commands.admin_address.lower())
    return Redactor(identity or Identity(), frozenset(keep))


def scrub(text: str, identity: Identity) -> str:
    """Free text safe for staff who may not see identity (see `Redactor.text`)."""
    return Redactor(identity).text(text)


def identity_view(cfg: Config, os_user: str, claimed: str | None, how: str) -> EventPlan | str:
    """The audit event for a view of a reporter's identity, or why the view is refused.

    Who: the OS account that ran the command (what actually authenticates a shell user) and,
    when given, the staff member it acts for; that member must be configured and hold a role
    with identity rights, since claiming to be a verifier is the only reason to name one.
    When: the caller stamps the event. How: `how`, e.g. "mailflow show --with-identity".
    """
    if claimed is None:
        return EventPlan(EventKind.IDENTITY_VIEWED, f"os:{os_user}", auth="os_user",
                         note=f"{how} by OS user {os_user}")
    member = cfg.staff_member(claimed)
    if member is None:
        return f"{claimed} is not configured staff ([[staff]] in the configuration)"
    if not member.sees_identity:
        allowed = ", ".join(sorted(role.value for role in IDENTITY_ROLES))
        return (f"{member.address} has no identity rights (roles {', '.join(member.roles)}; "
                f"identity is for {allowed})")
    return EventPlan(EventKind.IDENTITY_VIEWED, member.address, auth="os_user",
                     note=f"{how} by OS user {os_user} for {member.address}")
