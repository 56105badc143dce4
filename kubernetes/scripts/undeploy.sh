#!/usr/bin/env bash
# Removes the landscape: deletes namespace hands-on with everything in it (the dev databases' volumes
# included). The git-ignored credential files stay, so a new deployment reuses them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

require_cluster
if ! kubectl get namespace "$namespace" >/dev/null 2>&1; then
  log "namespace $namespace does not exist; nothing to do"
  exit 0
fi
kubectl delete namespace "$namespace" --wait=true --timeout="${wait_timeout}s"
log "namespace $namespace deleted"
