"""Import of business lists as chambers really have them: CSV or XLSX, messy headers.

CSV: UTF-8, UTF-8 with BOM or Windows-1252 (a file that is not valid UTF-8 is read as
Windows-1252); `;`, `,` or tab, sniffed from the header line. Headers are matched folded (case,
accents and punctuation ignored) against the usual French names and their variants. XLSX: the
first sheet, read in read-only mode (numbers that lost their leading zeros are padded back).

Each row is checked with the domain rules (SIRET, phone in the business's département, postcode,
NAF/NAFA code, e-mail); a bad row goes to the rejects file with its line number, the column as
named in the file, the value and the reason, and never stops the good rows beside it. Good rows
are upserted by SIRET in batches of 5,000, each batch its own short transaction (agents keep
recording calls meanwhile); a re-run adds nothing twice, and never lifts a do-not-call.
Always: rows imported + rows rejected = rows read (blank lines are not rows). A phone that is
no phone is left out of its row (flagged), not the row; an XLSX formula saved without its value
rejects its row. Every run is marked in audit_log at its start and its end, so a run that was
killed is named by the next run of the same file (see `previous_interrupted`).

An import never changes a business it has no business changing: one outside the importer's
chamber (or outside `--chamber`), one erased under the RGPD, one that opposed calls. Its row is
rejected with the reason, and the upsert itself is guarded (ON CONFLICT ... DO UPDATE WHERE) so
a firm that changed meanwhile is not touched either. A SIRET present twice in one file is
reported with its line numbers: the last valid line wins.

The package: `read` (file formats, encodings, sniffing, headers), `check` (one row against the
domain rules, rejects naming line, field and reason), `write` (the upsert per backend, the writer
thread), `run` (one run from start to end, its audit marks); `summary` is what a run reports.
This module keeps the public names in one place.
"""

from outreach.services.importer.check import COLUMNS
from outreach.services.importer.read import ALIASES, map_headers, sniff_delimiter, sniff_encoding
from outreach.services.importer.run import _file_keys, import_businesses, previous_interrupted
from outreach.services.importer.summary import (
    DUPLICATES_KEPT,
    REJECT_COLUMNS,
    REJECTED,
    WITHOUT_FIELD,
    Duplicate,
    ImportSummary,
    Interrupted,
    Reject,
)
from outreach.services.importer.write import (
    BATCH,
    ENV_BATCH,
    ENV_PAUSE,
    hidden_sirets,
    refused_sirets,
)

__all__ = [
    "ALIASES",
    "BATCH",
    "COLUMNS",
    "DUPLICATES_KEPT",
    "ENV_BATCH",
    "ENV_PAUSE",
    "REJECTED",
    "REJECT_COLUMNS",
    "WITHOUT_FIELD",
    "Duplicate",
    "ImportSummary",
    "Interrupted",
    "Reject",
    "_file_keys",
    "hidden_sirets",
    "import_businesses",
    "map_headers",
    "previous_interrupted",
    "refused_sirets",
    "sniff_delimiter",
    "sniff_encoding",
]
