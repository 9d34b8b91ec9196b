"""Seed data and its idempotent loader.

`seed/data/units.csv` is the annex (PHỤ LỤC) of Quyết định 474/QĐ-UBND (Kon Tum, 10/7/2020) exactly as printed:
the province and its 147 agencies, with the source spelling kept in `source_name` and a clean display name in
`name`. `seed/data/annex_totals.csv` holds the counts the annex states, which the loader checks against the rows.
`seed/data/templates/*.json` are the five checklist templates, `seed/data/deadlines.csv` the deadlines.
The loader goes read → analyse → load → demo: `seed.read` reads and checks the data files, `seed.anomalies`
lists the oddities of the source (`SeedReport.anomalies`) instead of silently correcting them,
`seed.load.load_seed()` upserts it all (running it twice changes nothing) and `seed.demo` adds the demo
accounts and checklists. In the product only the `eiso` command imports this package.
"""
