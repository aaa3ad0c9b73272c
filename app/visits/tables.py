from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.careplans.tables import Service
from app.clients.tables import Client


class VisitStatus(str, Enum):
    scheduled = "scheduled"
    in_progress = "in_progress"
    completed = "completed"
    missed = "missed"
    cancelled = "cancelled"


class Visit(Table, tablename="visit"):
    """One planned visit, generated from a service; times in UTC.

    (service, scheduled_start) is unique (an index in the migration): generating the schedule
    twice, from one process or several, can never plan the same visit twice.
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    service = ForeignKey(Service, on_delete=OnDelete.restrict, null=False, index=True)
    worker = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    scheduled_start = Timestamptz(index=True)
    scheduled_end = Timestamptz()
    status = Varchar(length=16, choices=VisitStatus, default=VisitStatus.scheduled.value, index=True)
    # Set when a coordinator gave this visit to another worker; the service's worker no longer applies.
    reassigned = Boolean(default=False)
    # A visit a coordinator moved: when the service had planned it. The schedule counts it as that planned
    # visit, so it neither plans the original again nor moves this one back.
    moved_from = Timestamptz(null=True, default=None, index=True)
    # A one-off visit a coordinator added for a service of the active plan: no rule calls for it, and the
    # schedule never removes it.
    extra = Boolean(default=False)
    cancel_reason = Text(default="")
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    check_in_at = Timestamptz(null=True, default=None)
    check_in_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    check_out_at = Timestamptz(null=True, default=None)
    check_out_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    location = Varchar(length=200, default="")  # where the worker says the visit took place: home, facility, other
    location_note = Varchar(length=200, default="")  # where, when "other"
    tasks_done = Text(default="[]")  # JSON list of the checklist items done
    internal_note = Text(default="")
    family_summary = Text(default="")
    family_summary_shared = Boolean(default=False)
    concern = Boolean(default=False)
    concern_severity = Varchar(length=16, default="")  # low, medium, high
    concern_text = Text(default="")
    # The concern's flow: raised (complete: flagged, how serious, what), emailed to the team's coordinators
    # (high: at once), acknowledged, actioned, resolved; a high one nobody acknowledged is escalated to admins.
    concern_raised_at = Timestamptz(null=True, default=None)
    concern_emailed_at = Timestamptz(null=True, default=None)
    concern_acknowledged_at = Timestamptz(null=True, default=None)
    concern_acknowledged_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    concern_action_note = Text(default="")
    concern_actioned_at = Timestamptz(null=True, default=None)
    concern_actioned_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    concern_escalated_at = Timestamptz(null=True, default=None)
    concern_resolved_at = Timestamptz(null=True, default=None)
    concern_resolved_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    concern_resolution = Text(default="")
    # When the visit really began and ended, where that differs from the taps on Check in and Check out
    # (a worker who could only tap hours later, a coordinator correcting): with the reason, who said so and
    # when. Such visits are flagged for the coordinator; the family sees these times.
    actual_start = Timestamptz(null=True, default=None)
    actual_end = Timestamptz(null=True, default=None)
    actual_reason = Text(default="")
    actual_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    actual_recorded_at = Timestamptz(null=True, default=None)
    # The latest change to the log after check-out (a correction), and who made it.
    late_edit_at = Timestamptz(null=True, default=None)
    late_edit_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarFeed(Table, tablename="calendar_feed"):
    """A worker's secret calendar URL; only the token's hash is stored, and it can be revoked."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
