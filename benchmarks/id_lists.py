"""Store queries that take a list of ids, by list length: what ``column IN (…)`` costs.

    python benchmarks/id_lists.py                                   # local PostgreSQL
    python benchmarks/id_lists.py --database-url postgresql+psycopg://postgres@db:5432/postgres

Files 320 busy-cell notices (two parties, batches of 8) into a fresh database made on the server of
--database-url (dropped after), then times the candidate footprints (``FOOTPRINTS``) and the
sharing of volumes (``SHARING``) for 10 and 300 volume ids, best of 5 rounds of 300 queries on one
connection. Run it from two checkouts (``PYTHONPATH=<checkout>/src``) to compare code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api import AGREEMENT, AGREEMENT_TOML, busy, postgresql_database
from strategic import machine

from deconfliction.service import init_store
from deconfliction.service.use_cases import file_each, prepare_filing
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.store.candidates import FOOTPRINTS
from deconfliction.store.repository import SHARING

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    notices = busy(320, lambda i: ("coalition", "russia")[i % 2])
    with postgresql_database(args.database_url) as url:
        engine = create_engine(url)
        uow = SqlUnitOfWork(engine)
        init_store(uow, AGREEMENT, AGREEMENT_TOML, now=NOW)
        for lo in range(0, len(notices), 8):
            filings = [prepare_filing([n], AGREEMENT, now=NOW) for n in notices[lo : lo + 8]]
            file_each(uow, filings, AGREEMENT, now=NOW)
        with engine.connect() as conn:
            for count in (10, 300):
                ids = list(range(1, count + 1))
                for name, query in (("FOOTPRINTS", FOOTPRINTS), ("SHARING", SHARING)):
                    best = float("inf")
                    for _ in range(5):
                        t = time.perf_counter()
                        for _ in range(300):
                            conn.execute(query, {"ids": ids}).all()
                        best = min(best, (time.perf_counter() - t) / 300)
                    line = {"query": name, "ids": count, "ms": round(best * 1e3, 3)}
                    print(json.dumps({"machine": machine(), **line}))
        engine.dispose()


if __name__ == "__main__":
    main()
