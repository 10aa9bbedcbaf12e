"""Dates as the product writes them everywhere, the admin included: UTC, ISO-like
(2026-12-01 21:05 UTC), never "Dec. 1, 2026, 9:05 p.m."."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
