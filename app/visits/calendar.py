"""A worker's visits as an iCalendar feed (RFC 5545): when, what kind of service, and the client's first name.

Calendar apps keep what they fetch on phones and in the cloud, so the feed carries nothing
confidential: no surname, address, needs, instructions or notes.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

PRODID = "-//Kinward//Visit schedule//EN"


def visits_calendar(*, visits: list[dict], kind_labels: dict[str, str], name: str, now: datetime,
                    installation: str) -> bytes:
    """The feed's body; cancelled visits stay in it marked CANCELLED, so calendar apps remove them.

    A UID names the visit and the installation (`installation`: the host people reach it at), so two
    Kinwards' visit 42 are two events in one calendar app. SEQUENCE follows the visit's version:
    every change to a visit raises it, and calendar apps take the higher one as the newer event.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for visit in visits:
        event = Event()
        event.add("uid", f"visit-{visit['id']}@{installation}")
        event.add("sequence", visit["version"] - 1)
        event.add("dtstamp", now)
        event.add("dtstart", visit["scheduled_start"])
        event.add("dtend", visit["scheduled_end"])
        event.add("summary", f"{kind_labels.get(visit['kind'], visit['kind'])}: {visit['client_first_name']}")
        event.add("status", "CANCELLED" if visit["status"] == "cancelled" else "CONFIRMED")
        if visit.get("updated_at"):
            event.add("last-modified", visit["updated_at"])
        calendar.add_component(event)
    return calendar.to_ical()
