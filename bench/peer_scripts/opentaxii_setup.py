"""Run by OpenTAXII's own interpreter (bench/.peers/opentaxii): set up and load the bench's TAXII 2 data.

    OPENTAXII_CONFIG=opentaxii.yml python opentaxii_setup.py --objects objects.jsonl --ingest 4 --password P

Creates one API root, a read collection and `--ingest` empty collections, an admin account, and adds the
objects to the read collection through OpenTAXII's persistence API (`Taxii2SQLDatabaseAPI.add_objects`,
1,000 objects per call: what a POST does after envelope validation). Prints the ids, a JWT and the load time
as one JSON line. Uses only OpenTAXII's public classes; no OpenTAXII code is copied.
"""

from __future__ import annotations

import argparse
import json
import time

from opentaxii.config import ServerConfig
from opentaxii.middleware import create_app
from opentaxii.server import TAXIIServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", required=True)
    parser.add_argument("--ingest", type=int, required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    server = TAXIIServer(ServerConfig())
    app = create_app(server)
    with app.app_context():
        api = server.servers.taxii2.persistence.api
        root = api.add_api_root(title="bench", description="bench", default=True)
        read = api.add_collection(api_root_id=str(root.id), title="read")
        ingest = [api.add_collection(api_root_id=str(root.id), title=f"ingest-{n}") for n in range(args.ingest)]
        server.auth.api.create_account(username="bench", password=args.password, is_admin=True)
        token = server.auth.authenticate("bench", args.password)
        started = time.perf_counter()
        loaded = 0
        batch: list[dict[str, object]] = []
        with open(args.objects, encoding="utf-8") as fh:
            for line in fh:
                batch.append(json.loads(line))
                if len(batch) == 1000:
                    api.add_objects(api_root_id=root.id, collection_id=read.id, objects=batch)
                    loaded += len(batch)
                    batch = []
        if batch:
            api.add_objects(api_root_id=root.id, collection_id=read.id, objects=batch)
            loaded += len(batch)
        print(json.dumps({"api_root": str(root.id), "read": str(read.id), "ingest": [str(c.id) for c in ingest],
                          "token": token, "loaded": loaded, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
