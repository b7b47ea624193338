"""Who may read what: the audience of every ledger entry, decided here and nowhere else.

Endpoints and feeds never decide visibility themselves; they show a party the entries whose
audience holds it (and stubs of the rest). The rules:

- a notice: its owner and the parties it is shared with (all parties unless it says otherwise);
- a notice's remarks: its owner alone;
- a conflict and what happens to it: the two parties involved, never a third;
- that a notice was filed late: every party (the others must be told);
- an officer or a token: the officer's party.
"""

from __future__ import annotations

from collections.abc import Sequence

from deconfliction.strategic.notice import Notice


def notice(n: Notice, parties: Sequence[str]) -> tuple[str, ...]:
    shared = parties if n.shared_with is None else n.shared_with
    return tuple(sorted({n.party, *shared}))


def owner(party: str) -> tuple[str, ...]:
    return (party,)


def conflict(a_party: str, b_party: str) -> tuple[str, ...]:
    return tuple(sorted({a_party, b_party}))


def everyone(parties: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(parties))
