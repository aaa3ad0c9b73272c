from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """Append-only; once sealed, each row's keyed hash covers its content and the previous row's hash
    in the same chain.

    A request inserts its rows unsealed (seq and hashes empty), without any lock; the facility's
    sealer then gives them their place in the chain, in id order, a moment later. A chain is per
    facility (facility_id NULL: events with no facility, such as a failed login for an unknown
    email). Ids are plain integers, not foreign keys, so nothing can cascade into the trail.
    """

    facility_id = Integer(null=True, default=None, index=True)
    seq = Integer(null=True, default=None, index=True)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None, index=True)
    actor_label = Varchar(length=254, default="")
    role = Varchar(length=16, default="")
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=64, default="")
    object_id = Varchar(length=64, default="")
    client_id = Integer(null=True, default=None)
    device_id = Integer(null=True, default=None)
    address = Varchar(length=64, default="")
    detail = Text(default="")
    prev_hash = Varchar(length=64, null=True, default=None)
    hash = Varchar(length=64, null=True, default=None)


class AuditChain(Table, tablename="audit_chain"):
    """Each chain's head: the last sealed row's seq and hash. Its row is what a sealer locks
    (SKIP LOCKED on PostgreSQL), so one sealer at a time extends a chain, in any number of processes."""

    chain_key = Integer(unique=True)  # the facility's id; 0 for the chain of events with no facility
    seq = Integer(default=0)
    head_hash = Varchar(length=64)
