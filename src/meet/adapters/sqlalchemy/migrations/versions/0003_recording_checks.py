"""Recordings: the database refuses a status or mode the domain does not know.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meet.adapters.sql.tables import RECORDING_TABLE, value_in
from meet.domain.recordings.model import ONGOING, RecordingMode, RecordingStatus

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


ONGOING_INDEX = "uq_meet_recording_room_ongoing"


def _drop_ongoing_index() -> None:
    op.drop_index(ONGOING_INDEX, table_name=RECORDING_TABLE)


def _create_ongoing_index() -> None:
    ongoing = sa.text(value_in("status", ONGOING))
    op.create_index(
        ONGOING_INDEX, RECORDING_TABLE, ["room_id"], unique=True, sqlite_where=ongoing, postgresql_where=ongoing
    )


def upgrade() -> None:
    # Batch mode: SQLite adds a constraint only by rebuilding the table, and its rebuild would not
    # carry the partial index's WHERE clause over: that index is dropped first and made again after.
    _drop_ongoing_index()
    with op.batch_alter_table(RECORDING_TABLE) as table:
        table.create_check_constraint("ck_meet_recording_status", value_in("status", RecordingStatus))
        table.create_check_constraint("ck_meet_recording_mode", value_in("mode", RecordingMode))
    _create_ongoing_index()


def downgrade() -> None:
    _drop_ongoing_index()
    with op.batch_alter_table(RECORDING_TABLE) as table:
        table.drop_constraint("ck_meet_recording_mode", type_="check")
        table.drop_constraint("ck_meet_recording_status", type_="check")
    _create_ongoing_index()
