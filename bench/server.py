"""What `make bench-load` adds to the production app it measures, and nothing more.

- ``bare``: a Django view that does nothing, served through the same middleware by the same
  gunicorn: the floor a sign-in step is compared with.
- ``SQLCountMiddleware`` (outermost) answers each request with ``X-Bench-SQL``, the
  statements this worker sent to PostgreSQL for it, counted at the driver (psycopg2) level so
  nothing Django sends past its own query log is missed: ``sql`` (queries), ``hc`` (the
  ``SELECT 1`` of connection health checks), ``sp`` (savepoint statements) and ``tx``
  (transactions: each is a BEGIN and a COMMIT or ROLLBACK, not counted in ``sql``); and with
  ``X-Bench-CPU-us``, the CPU time this worker spent inside Django for it.
- With BENCH_CPU_PROFILE=1 (`make profile`), each worker samples its own CPU time
  (bench/cpuprof.py) and ``/bench/profile/`` hands the samples over.

The counting costs a few microseconds a request, paid equally by every step and the floor.
"""

from __future__ import annotations

import os
import time

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from bench import cpuprof
from bench.pgcount import COUNTS
from twofactor_site.urls import handler400, handler403, handler404, handler500  # noqa: F401


class SQLCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        if os.environ.get("BENCH_CPU_PROFILE") == "1":
            cpuprof.start()  # in the worker: Django loads middleware after gunicorn's fork

    def __call__(self, request: HttpRequest) -> HttpResponse:
        before = dict(COUNTS)
        cpu = time.process_time()
        response = self.get_response(request)
        cpu_us = int((time.process_time() - cpu) * 1_000_000)
        response.headers["X-Bench-SQL"] = " ".join(
            f"{key}={COUNTS[key] - before[key]}" for key in COUNTS
        )
        response.headers["X-Bench-CPU-us"] = str(cpu_us)
        return response


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


def profile_samples(request: HttpRequest) -> HttpResponse:
    """The CPU samples of this worker since the last call (bench/cpuprof.py), then reset."""
    if os.environ.get("BENCH_CPU_PROFILE") != "1":
        return HttpResponse(status=404)
    return HttpResponse(cpuprof.take(), content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/profile/", profile_samples, name="bench-profile"),
    path("", include("twofactor_site.urls")),
]
