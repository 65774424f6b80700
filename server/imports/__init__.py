"""Spreadsheets into event envelopes: reading a CSV or XLSX file, matching its columns,
reading its cells, deriving ids, and writing templates. No I/O beyond the file."""
