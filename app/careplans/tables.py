from enum import Enum

from piccolo.columns import Date, ForeignKey, Integer, Text, Time, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.clients.tables import Client


class PlanStatus(str, Enum):
    draft = "draft"
    active = "active"
    superseded = "superseded"
    closed = "closed"


class GoalStatus(str, Enum):
    not_started = "not_started"
    in_progress = "in_progress"
    achieved = "achieved"
    discontinued = "discontinued"


class ServiceKind(str, Enum):
    personal_care = "personal_care"
    meals = "meals"
    medication_prompt = "medication_prompt"
    nursing = "nursing"
    therapy = "therapy"
    transport = "transport"
    social_contact = "social_contact"
    other = "other"


class CarePlan(Table, tablename="care_plan"):
    """One version of a client's care plan: draft -> active -> superseded, or closed when care ends.

    `version` numbers the plan's versions per client (1, 2, ...); `revision` counts edits to
    this row, so an edit based on an old revision is refused instead of overwriting. At most one
    draft and one active plan per client (partial unique indexes in the migration).
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    version = Integer()
    status = Varchar(length=16, choices=PlanStatus, default=PlanStatus.draft.value, index=True)
    summary = Text(default="")
    starts_on = Date()
    review_due = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)  # how long care is needed; empty while open-ended
    revision = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    activated_at = Timestamptz(null=True, default=None)
    activated_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    close_reason = Text(default="")


class Goal(Table, tablename="care_goal"):
    """What the care aims at. `lineage` is the id of the goal's first version, kept across plan versions."""

    plan = ForeignKey(CarePlan, on_delete=OnDelete.restrict, null=False, index=True)
    lineage = Integer(null=True, default=None)
    description = Text()
    target_date = Date(null=True, default=None)
    status = Varchar(length=16, choices=GoalStatus, default=GoalStatus.not_started.value)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class Service(Table, tablename="care_service"):
    """A service of a plan version: the one source of the visit schedule.

    `lineage` is the id of the service's first version; a new plan version copies it, so visits
    planned from an earlier version move to the new one instead of being planned twice.
    `weekdays` holds ISO weekday numbers ("1,3,5" = Monday, Wednesday, Friday); `start_time` is
    local time in the facility's timezone; `tasks` is a JSON list of checklist items.
    """

    plan = ForeignKey(CarePlan, on_delete=OnDelete.restrict, null=False, index=True)
    lineage = Integer(null=True, default=None, index=True)
    kind = Varchar(length=32, choices=ServiceKind)
    worker = ForeignKey(User, on_delete=OnDelete.restrict, null=True, index=True)
    provider_name = Varchar(length=200, default="")
    weekdays = Varchar(length=20)
    start_time = Time()
    duration_minutes = Integer()
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    instructions = Text(default="")
    tasks = Text(default="[]")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class GoalNote(Table, tablename="care_goal_note"):
    """What someone of the team wrote about progress on a goal: who, when, what.

    Kept against the goal's `lineage`, so a note follows the goal into every later plan version and a
    review reads the notes of its period whichever version was active. The author may correct it;
    `version` refuses a correction based on an older text.
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    goal_lineage = Integer(index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    body = Text()
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    corrected_at = Timestamptz(null=True, default=None)
