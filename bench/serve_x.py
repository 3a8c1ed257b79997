"""The X API of one benchmarked night, served by the project's simulator in a process of its own (as bench/serve.py
serves LinkedIn), so the simulator's CPU never counts as ingestion's.

`python -m bench.serve_x '<TenantSpec as JSON>' <night>` (token in SHAREWHY_SIMULATOR_TOKEN) prints one JSON line
`{"x": <base url>}` and serves until SIGTERM: the simulator's `XApi` (post lookup, 100 ids a call, its rate-limit
windows) with the tenant's X part behind it (bench.tenant_x.TenantX). The tenant's members hold no X token there:
the night reads with the app's token.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import date

from bench.tenant import Tenant, TenantSpec
from bench.tenant_x import TenantX
from simulator import server
from simulator.consent import ConsentRegistry
from simulator.x import XApi


def main() -> int:
    fields = json.loads(sys.argv[1])
    fields["first_night"] = date.fromisoformat(fields["first_night"])
    spec, night = TenantSpec(**fields), date.fromisoformat(sys.argv[2])
    token = os.environ[server.TOKEN_ENV]
    x = XApi(TenantX(Tenant(spec), night), token, consent=ConsentRegistry(token, {}))  # type: ignore[arg-type]
    httpd = server._SimulatorHTTPServer(0, {server.X_PREFIX: x}, verbose=False)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    print(json.dumps({"x": f"http://{server.HOST}:{httpd.server_address[1]}{server.X_PREFIX}/2"}), flush=True)
    stop.wait()
    httpd.shutdown()
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
