"""The SQL tables, as SQLAlchemy Core: one schema for SQLite and PostgreSQL.

Domain types stay plain dataclasses; :mod:`deconfliction.store.repository` translates. The
migration ``versions/0001_initial.py`` is written by hand to match this file, and a test checks that
they agree on both backends.

Notice and volume ids are allocated by the filing transaction, under the filing lock, so they are
the order of filing: the earlier filed volume of a conflict is the one with the smaller id
(``conflict.volume_a``). That is also why those ids have no database default (no sequence to keep in
step on PostgreSQL).

``volume`` keeps every derived footprint column, so a stored volume becomes a detection candidate
again without re-validating its outline. ``volume_cell`` is the candidate index (see
:mod:`deconfliction.strategic.cells`): one row per cell key a volume is registered under, carrying
the columns the candidate query filters on, so that on SQLite (``WITHOUT ROWID``: the rows *are* the
primary-key b-tree) the filters are evaluated inside the index scan.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A UTC instant that comes back timezone-aware on every backend.

    SQLite has no time zones (the value is stored as naive UTC text); PostgreSQL stores
    ``timestamptz``. A naive datetime is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime ({value}) cannot be stored as UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)


def _double(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Double, nullable=False)


agreement = sa.Table(
    "agreement",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1: one agreement
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # the TOML as the parties signed it
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

party = sa.Table(
    "party",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)

notice = sa.Table(
    "notice",
    metadata,
    _id(),
    sa.Column("party_id", sa.Text, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("activity", sa.Text, nullable=False),
    sa.Column("remarks", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("filed_at", UtcDateTime, nullable=False),
    # added by 0002: versions (amending makes a new version), sharing and lateness
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("supersedes", sa.Integer, sa.ForeignKey("notice.id"), nullable=True),
    sa.Column("shared_with", sa.Text, nullable=False, server_default="null"),  # JSON; null: all
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("filed_by", sa.Integer, nullable=True),  # officer id; None from the CLI import
    sa.UniqueConstraint("party_id", "ref", "version"),
)

volume = sa.Table(
    "volume",
    metadata,
    _id(),
    sa.Column("notice_id", sa.Integer, sa.ForeignKey("notice.id"), nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("outline", sa.Text, nullable=False),  # JSON, see repository.outline_json
    _double("lower_m"),
    _double("upper_m"),
    sa.Column("start_at", UtcDateTime, nullable=False),
    sa.Column("end_at", UtcDateTime, nullable=False),
    sa.Column("is_circle", sa.Boolean, nullable=False),
    _double("lon"),
    _double("lat"),
    _double("outer_m"),
    _double("inner_m"),
    sa.Column("ring", sa.LargeBinary, nullable=False),  # float64 (n, 2) lon/lat, native order
    _double("south"),
    _double("north"),
    _double("west"),
    _double("east"),
    sa.UniqueConstraint("notice_id", "idx"),
)

volume_cell = sa.Table(
    "volume_cell",
    metadata,
    sa.Column("cell", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column(
        "volume_id", sa.Integer, sa.ForeignKey("volume.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("party_id", sa.Text, nullable=False),
    _double("start_s"),  # epoch seconds
    _double("end_s"),
    _double("lower_m"),
    _double("upper_m"),
    _double("south"),
    _double("north"),
    sqlite_with_rowid=False,
)

index_level = sa.Table(
    "index_level",
    metadata,
    sa.Column("space", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("time", sa.Integer, primary_key=True, autoincrement=False),
)

# The two volumes of a conflict are foreign keys on SQLite; on PostgreSQL, since 0006, triggers
# that check each statement's rows at once refuse what these keys would (see that migration).
conflict = sa.Table(
    "conflict",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("volume_a", sa.Integer, sa.ForeignKey("volume.id"), nullable=False),  # filed first
    sa.Column("volume_b", sa.Integer, sa.ForeignKey("volume.id"), nullable=False, index=True),
    sa.Column("start_at", UtcDateTime, nullable=False),
    sa.Column("end_at", UtcDateTime, nullable=False),
    _double("horizontal_m"),
    _double("vertical_m"),
    _double("time_gap_s"),
    sa.Column("found_at", UtcDateTime, nullable=False),
    # added by 0002: each side acknowledges (UTC time and officer id)
    sa.Column("ack_a_at", UtcDateTime, nullable=True),
    sa.Column("ack_a_by", sa.Integer, nullable=True),
    sa.Column("ack_b_at", UtcDateTime, nullable=True),
    sa.Column("ack_b_by", sa.Integer, nullable=True),
    sa.UniqueConstraint("volume_a", "volume_b"),
)

officer = sa.Table(
    "officer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("party_id", sa.Text, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),  # admin | officer | observer
    sa.Column("level", sa.Integer, nullable=False),  # roster level: 1 duty officer, 2 deputy, …
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),  # SHA-256 of the token, hex
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

ledger_entry = sa.Table(
    "ledger_entry",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("audience", sa.Text, nullable=False),  # JSON list of party ids
    sa.Column("prev", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("countersig", sa.Text, nullable=True),  # added by 0004: the service's signature
)

entry_audience = sa.Table(
    "entry_audience",
    metadata,
    sa.Column("party_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)
"""Who may read each ledger entry, as rows: a party's feed is one index range scan."""

ledger_head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # the one row: id 1
    sa.Column("seq", sa.BigInteger, nullable=False),  # of the last entry, 0 when empty
    sa.Column("hash", sa.Text, nullable=False),  # of the last entry, genesis when empty
)
"""Every write transaction first updates the one row of this table: the row lock makes writers
take turns on PostgreSQL (and CockroachDB, YugabyteDB) in READ COMMITTED, so each sees what the one
before it committed, and the chain never forks; on SQLite ``BEGIN IMMEDIATE`` already serializes
writers. It replaces 0001's ``filing_lock``.
"""

message = sa.Table(
    "message",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.Text, nullable=True),  # None: the service's own traffic
    sa.Column("from_party", sa.Text, nullable=True),  # None: the service
    sa.Column("to_party", sa.Text, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("precedence", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sent_by", sa.Integer, nullable=True),  # officer id; None: the service
    sa.Column("sent_at", UtcDateTime, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),  # the roster level it is addressed to now
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("deadline", UtcDateTime, nullable=True, index=True),  # None once closed
    sa.Column("received_at", UtcDateTime, nullable=True),
    sa.Column("acked_at", UtcDateTime, nullable=True),
)
"""The state of each hotline message that escalation needs (what was said is in the ledger).

``deadline`` is set while a message waits for its acknowledgement and cleared when it is
acknowledged or expires, so the next deadline of all is the first key of its index, and deadlines
survive restarts and are shared by every service process.
"""

channel_state = sa.Table(
    "channel_state",
    metadata,
    sa.Column("party_a", sa.Text, primary_key=True),
    sa.Column("party_b", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("suspended_by", sa.Text, nullable=True),  # None: open
    sa.Column("changed_at", UtcDateTime, nullable=False),
)
"""Channels that were ever suspended; a channel without a row is open."""

party_key = sa.Table(
    "party_key",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),  # ed25519:<16 hex>
    sa.Column("party_id", sa.Text, sa.ForeignKey("party.id"), nullable=False, index=True),
    sa.Column("public_key", sa.Text, nullable=False),  # base64 of the 32 raw bytes
    sa.Column("registered_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)
"""Each party's registered Ed25519 public keys; once a party has one, it signs what it submits."""

used_nonce = sa.Table(
    "used_nonce",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,
)
"""Nonces of accepted signed requests: a replayed request finds its nonce here and is refused."""

service_key = sa.Table(
    "service_key",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # the one row: id 1
    sa.Column("private_key", sa.LargeBinary, nullable=False),  # PEM (PKCS #8)
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
"""The key the service countersigns ledger entries with (its public half is in the ledger)."""

track_state = sa.Table(
    "track_state",
    metadata,
    sa.Column("track", sa.Text, primary_key=True),  # icao24, hex ident, or the feed's own id
    sa.Column("party", sa.Text, nullable=True),  # None: unattributed (observed, not declared)
    sa.Column("reporter", sa.Text, nullable=False),  # the party whose feed reported it
    sa.Column("heard_s", sa.Double, nullable=False),  # epoch seconds of the latest report
    sa.Column("position_s", sa.Double, nullable=True),
    sa.Column("lat", sa.Double, nullable=True),
    sa.Column("lon", sa.Double, nullable=True),
    sa.Column("altitude_s", sa.Double, nullable=True),
    sa.Column("altitude_m", sa.Double, nullable=True),
    sa.Column("speed_mps", sa.Double, nullable=True),
    sa.Column("track_deg", sa.Double, nullable=True),
    sa.Column("vertical_rate_mps", sa.Double, nullable=True),
    sa.Column("on_ground", sa.Boolean, nullable=True),
)
"""The latest state of each live track, merged from partial reports (a field a report leaves out
keeps its value), shared by every service process."""

encounter = sa.Table(
    "encounter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Text, nullable=False),  # track ids, a < b
    sa.Column("b", sa.Text, nullable=False),
    sa.Column("a_party", sa.Text, nullable=False),  # the party told about each side
    sa.Column("b_party", sa.Text, nullable=False),
    sa.Column("opened_s", sa.Double, nullable=False),
    sa.Column("seen_s", sa.Double, nullable=False),
    sa.Column("recorded_s", sa.Double, nullable=False),  # when the ledger last heard of it
    sa.Column("tcpa_s", sa.Double, nullable=False),
    sa.Column("dcpa_m", sa.Double, nullable=False),
    sa.Column("tin_s", sa.Double, nullable=False),
    sa.Column("los", sa.Boolean, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),  # FLASH traffic was sent for it
    sa.Column("closed_s", sa.Double, nullable=True, index=True),  # None while open
)

tactical_lease = sa.Table(
    "tactical_lease",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # the one row: id 1
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("until_s", sa.Double, nullable=False),
)
"""Which service process runs the detection cycle: one at a time, taken over when it lapses."""
