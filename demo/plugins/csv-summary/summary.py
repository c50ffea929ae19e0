"""Summarises the columns of a CSV text with Python's csv and statistics modules."""
import csv
import io
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kits", "python"))
import polyplug  # noqa: E402

plugin = polyplug.Plugin()


def _number(value):
    try:
        return float(value)
    except ValueError:
        return None


@plugin.method
def summarize(text):
    rows = list(csv.reader(io.StringIO(text.strip())))
    if len(rows) < 2:
        raise polyplug.PolyplugError("INVALID_PARAMS", "need a header line and at least one row of CSV")
    header, body = rows[0], rows[1:]
    columns = []
    for i, name in enumerate(header):
        cells = [row[i] for row in body if i < len(row)]
        numbers = [n for n in (_number(c) for c in cells) if n is not None]
        column = {"column": name, "count": len(cells)}
        if numbers and len(numbers) == len(cells):
            column.update(mean=statistics.fmean(numbers), median=statistics.median(numbers), min=min(numbers), max=max(numbers))
        else:
            column["distinct"] = len(set(cells))
        columns.append(column)
    return {"rows": len(body), "columns": columns, "python": sys.version.split()[0]}


if __name__ == "__main__":
    plugin.run()
