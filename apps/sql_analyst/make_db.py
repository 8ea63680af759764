"""Build the sql_analyst sample database, ``shop.sqlite``: a small shop, the same every time.

    python apps/sql_analyst/make_db.py [OUT]

Tables: customers (40), products (12), orders (200, in 2024 and 2025) and order_items. The data
come from a seeded generator, so rebuilding gives the same rows; ``tests/unit/test_sql_analyst.py``
checks that the committed file matches this script.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DB = HERE / "shop.sqlite"

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    joined DATE NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price REAL NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    ordered DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('paid', 'shipped', 'refunded'))
);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
"""

PRODUCTS = [
    ("Espresso beans 1 kg", "coffee", 24.0), ("Filter coffee 500 g", "coffee", 11.5),
    ("Decaf beans 1 kg", "coffee", 26.0), ("Green tea 100 g", "tea", 8.0),
    ("Earl Grey 250 g", "tea", 9.5), ("Chai blend 200 g", "tea", 12.0),
    ("Pour-over kettle", "equipment", 49.0), ("Burr grinder", "equipment", 129.0),
    ("French press", "equipment", 35.0), ("Ceramic mug", "accessories", 14.0),
    ("Travel cup", "accessories", 19.0), ("Paper filters (100)", "accessories", 4.5),
]
CITIES = [("Berlin", "Germany"), ("Munich", "Germany"), ("Paris", "France"), ("Lyon", "France"),
          ("Madrid", "Spain"), ("Rome", "Italy"), ("Vienna", "Austria"), ("Amsterdam", "Netherlands")]
FIRST = ["Anna", "Ben", "Chloé", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Luca", "Marta", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tara", "Ugo"]
LAST = ["Schmidt", "Dubois", "García", "Rossi", "Bauer", "Martin", "Weber", "Moreau"]


def rows(seed: int = 12) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    customers: list[tuple[Any, ...]] = []
    for cid in range(1, 41):
        city, country = CITIES[rng.randrange(len(CITIES))]
        joined = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))
        customers.append((cid, f"{FIRST[(cid - 1) % 20]} {LAST[rng.randrange(len(LAST))]}", city,
                          country, joined.isoformat()))
    products: list[tuple[Any, ...]] = [(pid, *p) for pid, p in enumerate(PRODUCTS, 1)]
    orders: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    for oid in range(1, 201):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(731))
        status = rng.choices(["paid", "shipped", "refunded"], weights=[3, 6, 1])[0]
        orders.append((oid, rng.randrange(1, 41), day.isoformat(), status))
        for pid in sorted(rng.sample(range(1, len(PRODUCTS) + 1), rng.randint(1, 3))):
            items.append((oid, pid, rng.randint(1, 4), PRODUCTS[pid - 1][2]))
    return {"customers": customers, "products": products, "orders": orders, "order_items": items}


def build(out: Path = DB) -> Path:
    """Write the database to ``out`` (atomically: a temporary file, then a rename)."""
    temp = out.with_suffix(".tmp")
    temp.unlink(missing_ok=True)
    conn = sqlite3.connect(temp)
    try:
        conn.executescript(SCHEMA)
        for table, values in rows().items():
            marks = ", ".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    temp.replace(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else DB))
