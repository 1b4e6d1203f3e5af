"""Mint a dev token: python scripts/mint_token.py SUBJECT [GROUP ...]  (AUTH_MODE=dev only)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.auth import mint_dev_token

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: mint_token.py SUBJECT [member|pos|backoffice ...]")
    print(mint_dev_token(sys.argv[1], sys.argv[2:] or None))
