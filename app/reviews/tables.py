from enum import Enum

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from app.accounts.tables import User
from app.clients.tables import Client


class ReviewStatus(str, Enum):
    draft = "draft"
    finished = "finished"  # signed and locked: corrections are addenda


class Appropriate(str, Enum):
    yes = "yes"
    change = "change"  # appropriate with changes
    no = "no"


class Review(Table, tablename="care_review"):
    """One care review of a client: the period, the figures the coordinator saw, the judgement.

    `number` counts the client's reviews (1, 2, ...); `figures` is the JSON of the delivered-vs-planned
    facts as computed when the review was started (recomputable from the visits for the same
    period). Once finished it is locked; `version` moves on with each edit and each addendum.
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    number = Integer()
    status = Varchar(length=16, choices=ReviewStatus, default=ReviewStatus.draft.value, index=True)
    period_start = Date()
    period_end = Date()
    due_on = Date(null=True, default=None)  # the plan's review date this review answers
    figures = Text(default="{}")
    appropriate = Varchar(length=16, default="")
    reasons = Text(default="")
    care_until = Date(null=True, default=None)  # how long care is needed; empty with `ongoing`
    ongoing = Boolean(default=True)
    days_times = Text(default="")  # days and times to change
    treatment_add = Text(default="")
    treatment_stop = Text(default="")
    service_changes = Text(default="[]")  # JSON: [{"lineage": id, "change": "stop"|"retime", "note": ""}]
    actions = Text(default="[]")  # JSON: [{"what": "", "owner": "", "due": "YYYY-MM-DD"}]
    next_review_due = Date(null=True, default=None)
    change_plan = Boolean(default=False)
    family_summary = Text(default="")  # what the family may read, if shared
    summary_shared = Boolean(default=False)
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    signed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True)
    signed_at = Timestamptz(null=True, default=None)


class ReviewAddendum(Table, tablename="care_review_addendum"):
    """A correction or addition to a finished review, never edited: the review itself stays as signed."""

    review = ForeignKey(Review, on_delete=OnDelete.restrict, null=False, index=True)
    number = Integer()
    body = Text()
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())


class FamilyReviewInput(Table, tablename="family_review_input"):
    """A family member's answer before a review: what goes well, what worries them, what to change.

    Keyed by the review date it answers (`due_on`), since the review itself may not exist yet;
    `review` is set when a review takes it in.
    """

    client = ForeignKey(Client, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    due_on = Date()
    going_well = Text(default="")
    worries = Text(default="")
    change = Text(default="")
    review = ForeignKey(Review, on_delete=OnDelete.restrict, null=True)
    notified_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
