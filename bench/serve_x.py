"""The X API of one benchmarked night, served by the project's simulator in a process of its own (as bench/serve.py
serves LinkedIn), so the simulator's CPU never counts as ingestion's.

`python -m bench.serve_x '<TenantSpec as JSON>' <night>` (token in SHAREWHY_SIMULATOR_TOKEN) prints one JSON line
`{"x": <base url>}` and serves until SIGTERM: the simulator's `XApi` (post lookup, 100 ids a call, its rate-limit
windows) with the tenant's X part behind it (bench.tenant_x.TenantX). The tenant's members hold no X token there:
the night reads with the app's token.
"""

from __future__ import annotations

import os
import sys

from bench.serve import serve_until_stopped, spec_and_night
from bench.tenant import Tenant
from bench.tenant_x import TenantX
from simulator import server
from simulator.consent import ConsentRegistry
from simulator.x import XApi


def main() -> int:
    spec, night = spec_and_night(sys.argv)
    token = os.environ[server.TOKEN_ENV]
    x = XApi(TenantX(Tenant(spec), night), token, consent=ConsentRegistry(token, {}))  # type: ignore[arg-type]
    return serve_until_stopped({server.X_PREFIX: x}, lambda base: {"x": f"{base}{server.X_PREFIX}/2"})


if __name__ == "__main__":
    sys.exit(main())
