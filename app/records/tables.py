from enum import Enum

from piccolo.columns import BigInt, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class BackupStatus(str, Enum):
    running = "running"  # claimed by one process until `claimed_until`
    ok = "ok"
    failed = "failed"


class BackupRun(Table, tablename="backup_run"):
    """One scheduled backup. `slot` names the interval it covers: the unique slot is the claim,
    so among all the app's processes exactly one takes each interval's backup."""

    slot = Varchar(length=32, unique=True)
    status = Varchar(length=16, choices=BackupStatus, default=BackupStatus.running.value, index=True)
    claim_token = Varchar(length=64, default="")
    claimed_until = Timestamptz(null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    path = Text(default="")
    size_bytes = BigInt(default=0)
    sha256 = Varchar(length=64, default="")
    error = Text(default="")


class RetentionPurge(Table, tablename="retention_purge"):
    """A client whose personal data was removed after the retention period. Ids are plain integers:
    the client row is gone, and the audit trail still names the client by this id."""

    facility_id = Integer(index=True)
    client_id = Integer(unique=True)
    care_ended_on = Date()
    purged_at = Timestamptz(default=TimestamptzNow())
    purged_by = Varchar(length=254, default="")
    rows_removed = Text(default="")  # JSON: table -> number of rows
