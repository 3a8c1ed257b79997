"""The source APIs of one benchmarked night, served by the project's simulator in a process of its own (as the demo
runs it), so the simulator's CPU never counts as ingestion's.

`python -m bench.serve '<TenantSpec as JSON>' <night>` (token in SHAREWHY_SIMULATOR_TOKEN) prints one JSON line
`{"linkedin": <base url>, "typeform": <base url>, "form_ids": [...]}` and serves until SIGTERM:
- LinkedIn memberCreatorPostAnalytics: the simulator's `LinkedInApi` with the tenant behind it (bench.tenant);
- Typeform responses: the simulator's `TypeformApi` over its own seeded company (60 respondents, e-0001 … e-0060,
  who are employees of the tenant too).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.tenant import Tenant, TenantLinkedIn, TenantSpec, tenant_consent
from simulator import server
from simulator.company import Company
from simulator.linkedin import LinkedInApi
from simulator.typeform import TypeformApi


def spec_and_night(argv: list[str]) -> tuple[TenantSpec, date]:
    """The tenant and the night of a bench server's command line (`'<TenantSpec as JSON>' <night>`)."""
    fields = json.loads(argv[1])
    fields["first_night"] = date.fromisoformat(fields["first_night"])
    return TenantSpec(**fields), date.fromisoformat(argv[2])


def serve_until_stopped(apis: dict, urls: Callable[[str], dict[str, Any]]) -> int:
    """Serve `apis` (prefix → simulator API) on a free loopback port, print `urls(base url)` as one JSON line, and
    serve until SIGTERM or SIGINT."""
    httpd = server._SimulatorHTTPServer(0, apis, verbose=False)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    print(json.dumps(urls(f"http://{server.HOST}:{httpd.server_address[1]}")), flush=True)
    stop.wait()
    httpd.shutdown()
    httpd.server_close()
    return 0


def main() -> int:
    spec, night = spec_and_night(sys.argv)
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0  # seconds every answer waits (a vendor's round trip)
    token = os.environ[server.TOKEN_ENV]
    company = Company(spec.seed, night + timedelta(days=1))
    linkedin = TenantLinkedIn(Tenant(spec), night)
    apis = {
        server.LINKEDIN_PREFIX: LinkedInApi(linkedin, token, consent=tenant_consent(spec, token)),  # type: ignore[arg-type]
        server.TYPEFORM_PREFIX: TypeformApi(company, token),
    }
    if latency:
        apis = {prefix: server.Latency(api, latency) for prefix, api in apis.items()}
    return serve_until_stopped(
        apis,
        lambda base: {
            "linkedin": base + server.LINKEDIN_PREFIX,
            "typeform": base + server.TYPEFORM_PREFIX,
            "form_ids": company.form_ids,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
