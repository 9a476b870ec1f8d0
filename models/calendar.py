"""The Thai calendar of a program: its days, its one-year clock, the certificate window and Buddhist Era years."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CERTIFICATE_WINDOW = timedelta(days=30)  # seed 004 §3.3
# Program dates are Thai calendar days; Thailand keeps UTC+7 all year. Pages show times in THAI_ZONE_NAME too,
# unless a deployment sets another display zone (the `timezone` setting); program days stay Thai days.
THAI_ZONE_NAME = "Asia/Bangkok"
THAI_TIME = timezone(timedelta(hours=7), THAI_ZONE_NAME)
BUDDHIST_ERA_OFFSET = 543  # พ.ศ. = ค.ศ. + 543


def buddhist_era(year: int) -> int:
    """A common-era year counted in the Buddhist Era (พ.ศ.), as Thai dates are written."""
    return year + BUDDHIST_ERA_OFFSET


def buddhist_year(d: date) -> int:
    """The year of a date in the Buddhist Era: 2569 for 2026."""
    return buddhist_era(d.year)


def program_day(moment: datetime) -> date:
    """The Thai calendar day of an aware moment: program dates and deadlines are Thai days."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    return moment.astimezone(THAI_TIME).date()


def last_day_of_program(approved_on: date) -> date:
    """The last day of the year that the approval opens (seed 004 §2.5): the same date a year later, inclusive.

    Our reading follows how Thai law counts periods (Civil and Commercial Code §158–159): counting starts the day
    after approval and a year ends the day before the same date comes round again, so an approval on 9 July 2026
    allows work until 9 July 2027, and one on 29 February 2028 until 28 February 2029.
    """
    try:
        return approved_on.replace(year=approved_on.year + 1)
    except ValueError:  # 29 February
        return approved_on.replace(year=approved_on.year + 1, day=28)


def last_day_for_certificates(ended_on: date) -> date:
    """The 30th day after the program's end, inclusive (seed 004 §3.3, counted as in `last_day_of_program`)."""
    return ended_on + CERTIFICATE_WINDOW
