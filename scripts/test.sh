#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL (the README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/test-setup.sh
cargo test --workspace --locked
