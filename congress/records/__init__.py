"""Records anyone can check and the files staff print: the hash chain of the event log (chain.py),
the archive and its verifier (archive.py, verify*.py, each check in its own module), the minutes,
the progress and term reports, and every spreadsheet and PDF (exports.py, opinions_export.py,
pdf_charts.py), all cells through cells.py so that people's text never runs as a formula.
"""
