"""The years the platform records: annual study plans, learning hours, lectures, competitions.
A year outside this range is a typo or a probe, never data, so filters, forms and services refuse
it with a message instead of passing it to date arithmetic or the database."""

YEAR_MIN = 2000
YEAR_MAX = 2100
