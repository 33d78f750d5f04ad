"""regapp: reports which platform-specific helper it found."""

import datetime

from dateutil.relativedelta import relativedelta


def helper():
    """The name of the platform helper that is installed."""
    try:
        import regdep_b

        return regdep_b.NAME
    except ImportError:
        import regdep_a

        return regdep_a.NAME


def next_month(year, month, day):
    """The date one month after the given one, by dateutil."""
    return (datetime.date(year, month, day) + relativedelta(months=1)).isoformat()
