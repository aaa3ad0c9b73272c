"""Demo clients: about forty fictional people split between the two demo coordinators' caseloads."""

from __future__ import annotations

from datetime import date, timedelta

from app import clock
from app.accounts.queries import user_by_email
from app.audit.services import Actor
from app.clients import services
from app.clients.services import ClientDetails

# (first name, last name, preferred name, year of birth). Every person here is invented.
PEOPLE_OF_COORDINATOR = (
    ("Margaret", "Ellison", "Peggy", 1936), ("Harold", "Whitcombe", "", 1941), ("Agnes", "Oduya", "", 1939),
    ("Stanley", "Brierley", "Stan", 1944), ("Winifred", "Castellano", "Winnie", 1932), ("Ravi", "Chandrasekar", "", 1947),
    ("Doreen", "Pockett", "", 1938), ("Kazimierz", "Nowicki", "Kaz", 1940), ("Eileen", "Mulcahy", "", 1935),
    ("Bernard", "Achterberg", "Bernie", 1943), ("Iris", "Fennimore", "", 1946), ("Clement", "Adeyemi", "", 1937),
    ("Zoë", "Tremayne", "", 1950), ("Arthur", "Lindqvist", "", 1934), ("Gwendolyn", "Price", "Gwen", 1942),
    ("Mohammed", "Rahimi", "", 1945), ("Beatrice", "Halloran", "Bea", 1933), ("Leonard", "Szabo", "Len", 1948),
    ("Nora", "Kavanagh", "", 1940), ("Percival", "Oakes", "Percy", 1931),
)
PEOPLE_OF_COORDINATOR2 = (
    ("Edith", "Marchetti", "", 1937), ("Walter", "Greenhalgh", "Wally", 1942), ("Shanti", "Mistry", "", 1944),
    ("Cyril", "Ashworth", "", 1936), ("Mavis", "Dunleavy", "", 1939), ("Tomasz", "Wróbel", "Tom", 1946),
    ("Florence", "Abernethy", "Flo", 1934), ("Desmond", "Okafor", "Des", 1941), ("Hilda", "Vantongeren", "", 1938),
    ("Reginald", "Pugh", "Reg", 1943), ("Ingrid", "Solberg", "", 1947), ("Norman", "Featherstone", "", 1935),
    ("Pauline", "Osei", "", 1949), ("Gerald", "McAllister", "Gerry", 1940), ("Lilian", "Ferreira", "Lily", 1936),
    ("Vernon", "Blackwood", "", 1944), ("Olive", "Sandoval", "", 1933), ("Frederick", "Hayward", "Fred", 1945),
    ("Ruth", "Abramowitz", "", 1938), ("Aled", "Pritchard", "", 1942),
)

STREETS = ("Mill Lane", "Church Street", "Riverside Walk", "Orchard Close", "Station Road", "Beech Grove",
           "Canal Side", "Victoria Terrace", "Meadow View", "The Crescent")
LANGUAGES = ("English", "English", "English", "Welsh", "Polish", "Gujarati", "Urdu", "Italian", "Yoruba", "English")
ALLERGIES = ("None known", "Penicillin (rash)", "Peanuts — carries an EpiPen", "Latex", "None known",
             "Codeine (vomiting)", "Shellfish", "None known", "Sticking plasters", "Aspirin")
MOBILITY = (
    "Walks with a frame indoors; wheelchair for outings.",
    "Independent on the flat; rail needed on stairs.",
    "Hoist for transfers, two carers. Pressure cushion in the chair.",
    "Walks with a stick. Fell twice last winter — keep the hallway clear.",
    "Independent, but slow to rise in the morning because of arthritis.",
    "Uses a riser-recliner and a perching stool in the kitchen.",
)
COMMUNICATION = (
    "Hard of hearing in the left ear: sit on the right and face them.",
    "Mild dementia: short sentences, one choice at a time, use the photo board.",
    "Wears glasses for reading; large-print letters please.",
    "Speaks slowly after a stroke; give time, do not finish sentences.",
    "Clear communicator; likes a chat about the news.",
    "Prefers to speak in their first language when tired; phrase card by the phone.",
)
WHAT_MATTERS = (
    "Morning tea with two sugars before anything else; the radio on for the cricket.",
    "Feeding the birds in the garden; the cat, Biscuit, must not get out.",
    "Going to Friday prayers when well enough; halal meals.",
    "Phone call with their daughter every Sunday evening.",
    "Keeping the allotment going with the neighbour's help.",
    "Dressing smartly: collar and tie for visitors.",
    "Church on Sunday; the vicar visits on the first Tuesday.",
    "Crosswords in the afternoon; please do not tidy the newspapers away.",
)
RISKS = ("Falls risk at night: sensor mat by the bed.", "Lives alone; key safe by the back door.",
         "Forgets to drink: offer a glass at every visit.", "Diabetic (tablet controlled): watch for low sugar.",
         "Smokes: check ashtrays and the fire blanket.", "")
INSTRUCTIONS = (
    "Medication prompt from the blister pack at breakfast and tea. Record any refusals.",
    "Help with washing and dressing; they like to choose their own clothes.",
    "Prepare a hot lunch; soft diet, cut food small.",
    "Check skin on heels and sacrum at each personal care visit.",
    "Encourage a short walk to the gate and back if the weather is fine.",
    "Empty the commode and leave a clean bowl; lock the back door on leaving.",
)
CONTACT_NAMES = ("Susan", "David", "Priya", "Michael", "Helen", "Tunde", "Karen", "Pawel", "Joanne", "Liam")
RELATIONSHIPS = ("daughter", "son", "niece", "nephew", "neighbour", "friend")
FLAGS = {3: "Two falls this month", 8: "Safeguarding review open", 14: "Hospital discharge last week"}


def details_for(index: int, person: tuple[str, str, str, int], today: date) -> ClientDetails:
    first, last, preferred, year = person
    return ClientDetails(
        first_name=first, last_name=last, preferred_name=preferred,
        date_of_birth=date(year, (index * 5) % 12 + 1, (index * 7) % 27 + 1),
        address=f"{(index * 13) % 90 + 2} {STREETS[index % len(STREETS)]}\nRiverside RS{index % 9 + 1} {index % 7 + 2}QT",
        phone=f"01632 96{index:04d}", language=LANGUAGES[index % len(LANGUAGES)],
        allergies=ALLERGIES[index % len(ALLERGIES)], mobility=MOBILITY[index % len(MOBILITY)],
        communication=COMMUNICATION[index % len(COMMUNICATION)], what_matters=WHAT_MATTERS[index % len(WHAT_MATTERS)],
        risks=RISKS[index % len(RISKS)], care_instructions=INSTRUCTIONS[index % len(INSTRUCTIONS)],
        flag=FLAGS.get(index % 20, ""),
        review_due=today + timedelta(days=(index * 11) % 120 - 20),
        confidential_notes="Power of attorney held by the eldest child." if index % 4 == 0 else "",
    )


async def demo_clients(*, facility_id: int) -> None:
    """The demo caseloads: coordinator@ and coordinator2@ each with twenty clients and their teams."""
    people = {email: await user_by_email(email=f"{email}@kinward.example") for email in (
        "coordinator", "coordinator2", "worker", "worker2", "family", "family2")}
    today = clock.today_in("Europe/London")
    started = today - timedelta(days=60)
    for offset, (coordinator, worker, family, caseload) in enumerate((
        (people["coordinator"], people["worker"], people["family"], PEOPLE_OF_COORDINATOR),
        (people["coordinator2"], people["worker2"], people["family2"], PEOPLE_OF_COORDINATOR2),
    )):
        actor = Actor(user_id=coordinator["id"], label=coordinator["email"], role="coordinator",
                      facility_id=facility_id)
        for n, person in enumerate(caseload):
            index = offset * 20 + n
            client_id = await services.client_create(actor=actor, facility_id=facility_id,
                                                     details=details_for(index, person, today), today=started)
            status = "referral" if n in (17, 18) else "active"
            if status == "active":
                await services.client_status_change(actor=actor, client_id=client_id, version=1, to_status="active",
                                                    effective_on=started, reason="Care package agreed", today=today)
            if n == 15:
                await services.client_status_change(actor=actor, client_id=client_id, version=2, to_status="paused",
                                                    effective_on=today - timedelta(days=5),
                                                    reason="In hospital after a fall", today=today)
            if n == 19:
                await services.client_status_change(actor=actor, client_id=client_id, version=2,
                                                    to_status="discharged", effective_on=today - timedelta(days=10),
                                                    reason="Moved to residential care", today=today)
            if n < 12:
                await services.team_member_add(actor=actor, facility_id=facility_id, client_id=client_id,
                                               user_id=worker["id"], since=started)
            for c in range(1 + n % 2):
                contact = CONTACT_NAMES[(index + c) % len(CONTACT_NAMES)]
                await services.contact_add(actor=actor, client_id=client_id, name=f"{contact} {person[1]}",
                                           relationship=RELATIONSHIPS[(index + c) % len(RELATIONSHIPS)],
                                           phone=f"07700 9{index:02d}{c:03d}", emergency=c == 0)
            if n == 0:
                await services.family_invite(actor=actor, facility_id=facility_id, client_id=client_id,
                                             display_name=family["display_name"], email=family["email"],
                                             relationship="daughter" if offset == 0 else "son",
                                             may_see_schedule=True, may_see_visit_summaries=True, may_message=True)
