"""Order data: a client's export or database → canonical order lines, every row accounted for.

`load` (the entry point: `load_orders`, `check_threshold`), `sources` (files, folders, databases), `presets`
(column names → fields), `values` (dates, amounts, statuses), `identity` (customers by id, e-mail, mobile),
`check` (`run_report.py --check-data`), and `demo` (the demo-data generator).
"""
