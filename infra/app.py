"""CDK entry point: ``npx cdk synth`` (via cdk.json) or plainly ``python infra/app.py``.

Builds the Lambda layer first (no Docker; skipped while its dependencies are unchanged), so a fresh clone
synthesizes without any other step. No AWS account or credentials are needed: the stack is
environment-agnostic. cdk-nag runs during the synth and fails it on any unacknowledged finding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Runnable without the editable install as well: the infra package and the layer builder are plain folders.
sys.path[:0] = [
    str(REPO_ROOT / "infra"),
    str(REPO_ROOT / "layers"),
    str(REPO_ROOT / "layers" / "receivables"),
]

from build_layer import build_analytics_layer, build_layer  # noqa: E402
from receivables_infra.application import build_app  # noqa: E402


def main() -> None:
    # The CLI passes its output directory in CDK_OUTDIR; run standalone, write where the CLI would.
    outdir = None if "CDK_OUTDIR" in os.environ else str(REPO_ROOT / "cdk.out")
    app, _ = build_app(layer_dir=build_layer(), analytics_layer_dir=build_analytics_layer(), outdir=outdir)
    app.synth()


if __name__ == "__main__":
    main()
