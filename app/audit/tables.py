from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """Append-only; each row's hash covers its content and the previous row's hash in the same chain.

    A chain is per facility (facility_id NULL: events with no facility, such as a failed login
    for an unknown email). Ids are plain integers, not foreign keys, so nothing can cascade
    into the trail.
    """

    facility_id = Integer(null=True, default=None, index=True)
    seq = Integer()
    at = Timestamptz()
    actor_id = Integer(null=True, default=None, index=True)
    actor_label = Varchar(length=254, default="")
    role = Varchar(length=16, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=64, default="")
    object_id = Varchar(length=64, default="")
    client_id = Integer(null=True, default=None, index=True)
    device_id = Integer(null=True, default=None)
    address = Varchar(length=64, default="")
    detail = Text(default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
