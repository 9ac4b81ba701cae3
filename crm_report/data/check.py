"""`run_report.py --check-data`: what the loader found in a client's data, as text in the client's language.

A consultant onboarding a client runs this first: which file and encoding, which column went to which
field (and how it was recognised), the columns left over with suggested mappings, rows read, used and
excluded by reason with the first example of each, customers and how they were identified, the date range,
the currency and the problems that would stop a report; and each decision the loader made on its own: which
preset and why (the platform whose columns it found, or why none), the product column (or that there is
none), the order of dates written with the year last (or that no date needed one), columns renamed between
exports, which of overlapping exports won, where the currency comes from (and the lines converted at the
client's rates), the credit notes netted against their orders (or that there were none, and why), the share
of the amount the excluded rows carry.
"""
from __future__ import annotations

from typing import Any

from crm_report.config import ClientConfig
from crm_report.data.load import OVERLAP, LoadResult, credit_notes, currency_conversions
from crm_report.data.presets import PRESETS
from crm_report.errors import ReportError
from crm_report.formatting import number, pct


def check_report(config: ClientConfig, result: LoadResult | None, words: dict[str, Any],
                 error: ReportError | None = None) -> tuple[str, bool]:
    """The check's text and whether a report run could go ahead (False: it would stop)."""
    w = words["check_data"]
    out = [w["title"].format(client=config.client_id, name=config.display_name),
           w["source"].format(source=config.source.describe())]
    if result is None:
        return "\n".join([*out, "", w["error"], f"  {error}"]), False
    for f in result.files:
        matching = f.matching
        out.append("  " + _file_line(f, w))
        out.append("  " + w["preset"].format(preset=matching.preset, why=_preset_why(matching, w)))
        width = max((len(m.field) for m in matching.matches.values()), default=0)
        for m in matching.matches.values():
            source = ", ".join(m.columns) if m.columns else m.how
            how = f"  ({_how(m.how, w)})" if m.columns else ""
            out.append(f"    {m.field:<{width}} ← {source}{how}")
        for field_name, names in matching.unlisted.items():
            out.append("  " + w["unlisted"].format(field=field_name, columns=", ".join(names)))
        if matching.product_list and "product_name" in matching.matches:
            out.append("  " + w["product_list"].format(column=", ".join(matching.matches["product_name"].columns)))
        if not {"product_id", "product_name"} & ({*matching.matches} | {s.field for s in f.suggestions}):
            out.append("  " + w["no_product"])
        if f.date_order is not None:
            out.append("  " + _date_order_line(f.date_order, words["data_decisions"]))
        else:
            out.append("  " + w["date_year_first"])
        if f.matching.unmatched:
            out.append("  " + w["unmatched"].format(columns=", ".join(f.matching.unmatched)))
        if f.suggestions:
            out.append("  " + w["suggestions"])
            out.append("    source:\n      columns:")
            for s in f.suggestions:
                why = w["suggest_name"].format(like=s.like) if s.basis == "name" else w["suggest_values"]
                out.append(f"        {s.field}: {s.column}   # {why}")
    lines, excluded = result.lines, result.excluded
    out += ["", w["rows"].format(read=number(result.rows_read), used=number(len(lines)),
                                 excluded=number(result.rows_excluded), share=pct(result.excluded_share),
                                 limit=pct(result.max_excluded_share))]
    counted = excluded.loc[excluded["reason"].ne(OVERLAP)]
    firsts = counted.drop_duplicates("reason").set_index("reason")
    for reason, n in counted["reason"].value_counts().items():
        first = firsts.loc[reason]
        column = w["reason_column"].format(column=first["column"]) if isinstance(first["column"], str) else ""
        value = w["reason_value"].format(value=first["value"]) if isinstance(first["value"], str) else ""
        out.append("  " + w["reason_line"].format(reason=words["data_quality"]["reasons"][reason], n=number(n),
                                                  file=first["file"], row=first["source_row"], column=column,
                                                  value=value))
    if result.rows_overlap:
        out.append("  " + w["overlap"].format(n=number(result.rows_overlap)))
    decided = words["data_decisions"]
    out.append("  " + decided["amount_share"].format(share=pct(result.excluded_amount_share)))
    notes = credit_notes(result.lines, excluded)
    if not (notes.lines or notes.unmatched):
        prefix = config.source.cancel_prefix
        out.append(w["no_credit_notes"].format(prefix=w["cancel_prefix"].format(prefix=prefix) if prefix
                                               else w["no_cancel_prefix"]))
    else:
        out.append(decided["credit_notes"].format(
            notes=number(notes.notes), reference=number(notes.by_reference), product=number(notes.by_product),
            days=notes.window_days, cancelled=number(notes.orders_cancelled), reduced=number(notes.orders_reduced),
            amount=number(notes.amount, 2), unmatched=number(notes.unmatched),
            unmatched_amount=number(notes.unmatched_amount, 2), currency=config.currency))
    problems = []
    if len(lines):
        customers = lines.dropna(subset=["customer_id"]).drop_duplicates("customer_id")["customer_match"]
        by = customers.astype("str").value_counts()
        guests = lines.loc[lines["customer_id"].isna() & lines["status"].eq("paid"), "order_id"].nunique()
        status = lines["status"].value_counts()
        out += [w["customers"].format(total=number(len(customers)), id=number(by.get("id", 0)),
                                      email=number(by.get("email", 0)), phone=number(by.get("phone", 0)),
                                      guests=number(guests)),
                w["orders"].format(orders=number(lines["order_id"].nunique()), paid=number(status.get("paid", 0)),
                                   cancelled=number(status.get("cancelled", 0)),
                                   refunded=number(status.get("refunded", 0))),
                w["dates"].format(first=f"{lines['order_date'].min():%Y-%m-%d}",
                                  last=f"{lines['order_date'].max():%Y-%m-%d}", timezone=config.timezone)]
    else:
        problems.append(w["no_rows"])
    if config.currency_rates:
        converted = [w["currency_converted"].format(code=c.currency, n=number(c.lines), rate=f"{c.rate:g}")
                     for c in currency_conversions(lines, config.currency_rates)]
        out.append(w["currency_rates"].format(currency=config.currency, listed=", ".join(config.currency_rates),
                                              converted=", ".join(converted) or w["currency_none_converted"]))
    else:
        out.append(w["currency_set" if "currency" in config.model_fields_set else "currency_default"].format(
            currency=config.currency))
    if result.over_threshold:
        rows_over = result.excluded_share > result.max_excluded_share
        problems.append((w["over_threshold"] if rows_over else decided["over_threshold_amount"]).format(
            share=pct(result.excluded_share if rows_over else result.excluded_amount_share),
            limit=pct(result.max_excluded_share)))
    for finding in result.findings:
        problems.append(w[finding.kind].format(n=number(finding.count), file=finding.file, column=finding.column,
                                               example=finding.example, row=finding.row))
    if problems:
        out += ["", w["problems"], *(f"  - {p}" for p in problems)]
    usable = len(lines) > 0 and not result.over_threshold
    out += ["", w["ok"] if usable else w["stop"]]
    return "\n".join(out), usable


def _preset_why(matching, w: dict[str, Any]) -> str:
    """Why this preset: named in client.yaml, the platform whose signature columns the file has, or why none."""
    why = w["preset_why"][matching.chosen_by]
    if matching.chosen_by == "detected":
        preset = PRESETS[matching.preset]
        names = [e if isinstance(e, str) else next((n for n in e if n in matching.columns), e[0])
                 for e in preset.signature]
        return why.format(platform=preset.platform, columns=", ".join(names))
    return why.format(platforms=", ".join(PRESETS[c].platform for c in matching.candidates))


def _how(how: str, w: dict[str, Any]) -> str:
    """How a column was found, in words: by client.yaml, a platform preset, a known name, the same name."""
    if how in PRESETS and PRESETS[how].platform:
        return w["how"]["preset"].format(platform=PRESETS[how].platform)
    return w["how"].get(how, how)


def _file_line(f, w: dict[str, Any]) -> str:
    info = f.info
    details = []
    if info.encoding:
        details.append(w["encoding"].format(encoding=info.encoding,
                                            how=w["detected"] if info.encoding_detected else w["forced"]))
    if info.sheet:
        details.append(w["sheet"].format(sheet=info.sheet))
    if info.header_row:
        details.append(w["header"].format(row=info.header_row))
    if f.blank_rows:
        details.append(w["blank"].format(n=number(f.blank_rows)))
    return w["file"].format(file=info.name, kind=w["sep"].join([info.kind, *details]), rows=number(f.rows))


def _date_order_line(order, w: dict[str, Any]) -> str:
    how = (w["date_detected"].format(row=order.row, value=order.value) if order.how == "detected"
           else w["date_forced"])
    return w["date_order"].format(order=w["date_orders"][order.order], how=how)
