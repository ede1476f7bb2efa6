#!/usr/bin/env bash
# The whole test suite against a real engine: installs what is missing, builds, starts a private
# dockerd (scripts/test-env.sh), runs vitest, stops the engine. `npm test` and .ci/run call this.
# Extra arguments go to vitest (e.g. `npm test -- test/e2e/spine.e2e.test.ts`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build

bash scripts/test-env.sh up
trap 'bash scripts/test-env.sh down' EXIT
# shellcheck disable=SC1091
source .test-env/env
npx vitest run "$@"
