#!/usr/bin/env bash
# Stands in for kubectl in scripts.test.ts: records every call in $FAKE_LOG and answers like a cluster
# whose state the FAKE_* variables describe. `kustomize` and `apply --kustomize` render for real.
set -euo pipefail
printf '%s\n' "$*" >>"$FAKE_LOG"

deployments=(product recommendation review product-composite auth-server postgres mysql rabbitmq)
not_ready=" ${FAKE_NOT_READY:-} "

case "$1 ${2:-}" in
  "config current-context") echo fake-cluster ;;
  "version "*) ;;
  "get crd")
    if [[ $3 == gateways.gateway.networking.k8s.io ]]; then [[ ${FAKE_GATEWAY_API:-yes} == yes ]]; else [[ ${FAKE_CERT_MANAGER:-no} == yes ]]; fi
    ;;
  "kustomize "*) "$REAL_KUBECTL" kustomize "$2" ;;
  "apply --kustomize") "$REAL_KUBECTL" kustomize "$3" >/dev/null ;;
  "apply --filename") cat >"$FAKE_APPLIED" ;;
  "get secret") false ;;
  "create secret")
    # --cert and --key name files openssl wrote.
    while (($#)); do
      case $1 in --cert | --key) test -s "$2" ;; esac
      shift
    done
    printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-certificate\ntype: kubernetes.io/tls\n'
    ;;
  "get deployments")
    case ${FAKE_GET_DEPLOYMENTS:-ok} in
      fail) echo 'error: the server has asked for the client to provide credentials' >&2; exit 1 ;;
      none) ;;
      *) printf 'deployment.apps/%s\n' "${deployments[@]}" ;;
    esac
    ;;
  "rollout status")
    name=${5#deployment.apps/}
    [[ $not_ready != *" $name "* ]]
    ;;
  "get certificate") [[ ${FAKE_CERT_MANAGER:-no} == yes ]] ;;
  "wait certificate/tls-certificate") ;;
  "get pods")
    for name in "${deployments[@]}"; do
      if [[ $not_ready == *" $name "* ]]; then echo "$name-5d9c7-x2x4q False"; else echo "$name-7f6b8-a1b2c True"; fi
    done
    ;;
  "get pod") echo "  container ${2%%-*}: restarts 4, waiting CrashLoopBackOff back-off restarting failed container, last exit Error 1" ;;
  "get events")
    echo "TIME                   TYPE      REASON    MESSAGE"
    echo "2025-01-01T00:00:00Z   Warning   BackOff   Back-off restarting failed container"
    ;;
  "get namespace") [[ ${FAKE_NAMESPACE:-yes} == yes ]] ;;
  "delete namespace") ;;
  "describe certificate") echo "Status: Ready" ;;
  *) echo "fake kubectl: unexpected call: $*" >&2; exit 2 ;;
esac
