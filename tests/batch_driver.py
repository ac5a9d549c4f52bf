"""A batch run in its own process, for tests that kill it or run two at once.

``python -m tests.batch_driver DECISIONS OUTPUT DELAY [REGISTER]`` issues with the fake converter
slowed down by DELAY seconds a document, so that a SIGKILL lands in the middle of the work.
REGISTER (an SQLite path or a ``postgresql://`` URL) defaults to OUTPUT/register.sqlite3.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from certdocs.batch import run_batch
from certdocs.decisions import load_meeting
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register, register_location
from certdocs.testing import FakeConverter

ROOT = Path(__file__).resolve().parent.parent


class SlowConverter(FakeConverter):
    """The fake converter, taking its time."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        out = {}
        for source in sources:
            time.sleep(self.delay)
            out.update(super().convert([source], outdir=outdir, labels=labels))
        return out


def main(argv: list[str]) -> int:
    decisions, output, delay = Path(argv[0]), Path(argv[1]), float(argv[2])
    target = register_location(argv[3]) if len(argv) > 3 else output / "register.sqlite3"
    ws = Workspace(output=output, register=target, templates=ROOT / "templates")
    meeting = load_meeting(decisions)
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=SlowConverter(delay), register=register, today=date(2026, 11, 22))
        summary = run_batch(meeting, issuer=issuer, register=register)
    for failure in summary.to_json()["failed"]:
        print(failure["audit"], *failure["errors"], file=sys.stderr)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
