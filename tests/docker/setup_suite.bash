# shellcheck shell=bash
# A PostgreSQL database of this bats run's own, as in tests/cli (the Docker
# tests of two sessions sharing a server must not reset each other's tables).
# shellcheck source=tests/cli/setup_suite.bash
. "$(dirname "${BASH_SOURCE[0]}")/../cli/setup_suite.bash"
