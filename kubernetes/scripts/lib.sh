# shellcheck shell=bash
# Shared by the deploy and undeploy scripts; sourced, not run.

namespace=hands-on
# shellcheck disable=SC2034 # used by the scripts that source this file
kubernetes_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Seconds to wait for the landscape to become ready (WAIT_TIMEOUT overrides).
wait_timeout=${WAIT_TIMEOUT:-300}

log() { printf '%s: %s\n' "$(basename "$0")" "$*"; }
fail() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is required but not installed"
  done
}

require_cluster() {
  require kubectl
  local context
  context=$(kubectl config current-context 2>/dev/null) || fail "kubectl has no current context; start a cluster (minikube start) or select one"
  kubectl version >/dev/null 2>&1 || fail "the cluster of context '$context' does not answer"
  log "context '$context', namespace $namespace"
}

# The edge: gateway (the Gateway API, default) or ingress (an Ingress for ingress-nginx).
edge=${EDGE:-gateway}

# The overlay folder for an environment (dev or prod) with the chosen edge.
overlay_for() {
  case $edge in
    gateway) printf '%s\n' "$kubernetes_dir/overlays/$1-gateway" ;;
    ingress) printf '%s\n' "$kubernetes_dir/overlays/$1" ;;
    *) fail "EDGE=$edge: choose gateway or ingress" ;;
  esac
}

# The Gateway edge needs the Gateway API's resources and an implementation installed.
require_edge() {
  if [[ $edge == gateway ]] && ! kubectl get crd gateways.gateway.networking.k8s.io httproutes.gateway.networking.k8s.io >/dev/null 2>&1; then
    fail "EDGE=gateway but the cluster has no Gateway API resources; install them and a Gateway controller (see kubernetes/README.md), or deploy with EDGE=ingress"
  fi
  log "edge: $edge"
}

has_cert_manager() {
  kubectl get crd certificates.cert-manager.io issuers.cert-manager.io >/dev/null 2>&1
}

# Waits for every Deployment of the namespace to finish its rollout, within wait_timeout seconds in
# all, then for the edge certificate when cert-manager issues it. On failure, says what is not ready:
# the Deployments, then each pod that is not Ready with its containers' state and its last events.
wait_for_landscape() {
  local deadline=$((SECONDS + wait_timeout)) deployment remaining
  local -a not_ready=()
  local -a deployments=()
  local listed
  # Not in a process substitution: a failing kubectl must stop the wait, not yield zero Deployments.
  listed=$(kubectl get deployments --namespace "$namespace" --output name) ||
    fail "could not list the deployments of $namespace (kubectl get deployments failed)"
  [[ -n $listed ]] || fail "no deployments in $namespace after applying the landscape"
  mapfile -t deployments <<<"$listed"
  log "waiting up to ${wait_timeout}s for ${#deployments[@]} deployments"
  for deployment in "${deployments[@]}"; do
    remaining=$((deadline - SECONDS))
    ((remaining > 0)) || remaining=1
    if ! kubectl rollout status --namespace "$namespace" "$deployment" --timeout="${remaining}s"; then
      not_ready+=("$deployment")
    fi
  done
  if has_cert_manager && kubectl get certificate tls-certificate --namespace "$namespace" >/dev/null 2>&1; then
    remaining=$((deadline - SECONDS))
    ((remaining > 0)) || remaining=1
    if ! kubectl wait certificate/tls-certificate --namespace "$namespace" --for=condition=Ready --timeout="${remaining}s"; then
      not_ready+=("certificate/tls-certificate")
      kubectl describe certificate tls-certificate --namespace "$namespace" | tail -n 15 >&2 || true
    fi
  fi
  if ((${#not_ready[@]} == 0)); then
    log "ready: every deployment of $namespace has rolled out"
    return 0
  fi
  report_pods_not_ready
  fail "not ready after ${wait_timeout}s: ${not_ready[*]}"
}

report_pods_not_ready() {
  local pod ready
  {
    echo
    echo "Pods that are not Ready:"
    kubectl get pods --namespace "$namespace" \
      --output jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
      while read -r pod ready; do
        [[ $ready == True ]] && continue
        echo
        echo "== pod/$pod (Ready: ${ready:-unknown})"
        kubectl get pod "$pod" --namespace "$namespace" \
          --output jsonpath='{range .status.containerStatuses[*]}  container {.name}: restarts {.restartCount}, waiting {.state.waiting.reason} {.state.waiting.message}, last exit {.lastState.terminated.reason} {.lastState.terminated.exitCode}{"\n"}{end}' || true
        echo "  last events:"
        kubectl get events --namespace "$namespace" --field-selector "involvedObject.name=$pod" \
          --sort-by=.lastTimestamp --output custom-columns=TIME:.lastTimestamp,TYPE:.type,REASON:.reason,MESSAGE:.message |
          tail -n 6 | sed 's/^/    /' || true
      done
    echo
  } >&2
}
