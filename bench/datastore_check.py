"""How long checking a new datastore connection takes to fail when the address does not answer:
Azure Blob and S3, against a closed port (refused at once) and a blackhole (a loopback socket that
accepts and never answers). Target: every case under 10 s (it took 78 s with the SDKs' own retries).

    .venv/bin/python bench/datastore_check.py
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
os.environ.setdefault("STUDIO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def main() -> None:
    import django

    django.setup()
    from datastores.storage import StorageError, azure_store, s3_store

    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)
    addresses = {"closed port": closed_port(), "blackhole": f"127.0.0.1:{blackhole.getsockname()[1]}"}
    stores = {
        "Azure Blob": lambda address: azure_store(
            account_name="devstoreaccount1",
            container_name="c",
            endpoint=f"http://{address}/devstoreaccount1",
            protocol="http",
            credentials={"account_key": "bm90LWEtcmVhbC1rZXktMTIzNDU2Nzg5MA=="},
            label="bench",
            probe=True,
        ),
        "S3": lambda address: s3_store(
            bucket="b",
            endpoint_url=f"http://{address}",
            region="",
            credentials={"access_key_id": "AKIAEXAMPLE", "secret_access_key": "not-a-real-secret"},
            label="bench",
            probe=True,
        ),
    }
    print(f"{'storage':<12} {'address':<12} {'seconds':>8}  answer")
    for kind, make in stores.items():
        for where, address in addresses.items():
            started = time.monotonic()
            try:
                make(address).list_root()
                answer = "listed (unexpected)"
            except StorageError as exc:
                answer = str(exc)[:70]
            print(f"{kind:<12} {where:<12} {time.monotonic() - started:8.2f}  {answer}")
    blackhole.close()


if __name__ == "__main__":
    main()
