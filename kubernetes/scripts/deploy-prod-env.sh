#!/usr/bin/env bash
# Deploys the production landscape (kubernetes/overlays/prod) into namespace hands-on of the current
# kubectl context and waits until it is ready. Nothing is generated here: the credentials
# (overlays/prod/secrets/*.env), the settings (edge-settings.yaml, managed-services.yaml and the
# image registry in kustomization.yaml) and the managed servers' CA bundle (managed-services-ca.pem)
# must be filled in first; see kubernetes/README.md.
# EDGE=gateway (default: a Gateway and HTTPRoutes, overlays/prod-gateway) or EDGE=ingress (an Ingress for
# ingress-nginx, overlays/prod).
# WAIT_TIMEOUT (seconds, default 300) bounds the wait.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# Credentials and certificate live in overlays/prod, which the gateway variant includes.
settings=$kubernetes_dir/overlays/prod

check_credentials() {
  local example env_file
  for example in "$settings"/secrets/*.env.example; do
    env_file=${example%.example}
    [[ -e $env_file ]] || fail "${env_file#"$kubernetes_dir"/} is missing: copy ${example##*/} and fill it in"
    if grep -q '__SET_ME__' "$env_file"; then
      fail "${env_file#"$kubernetes_dir"/} still holds __SET_ME__ placeholders"
    fi
  done
}

# The managed servers' certificates are checked against this bundle (overlays/prod/managed-services-ca.pem).
check_ca_bundle() {
  local bundle=$settings/managed-services-ca.pem
  grep -q -- '-----BEGIN CERTIFICATE-----' "$bundle" ||
    fail "${bundle#"$kubernetes_dir"/} holds no certificate: put the PEM CA certificates of your managed servers in it"
}

check_settings() {
  local rendered placeholders
  rendered=$(kubectl kustomize "$overlay")
  placeholders=$(grep -nE '[a-z0-9.-]*example\.(org|com)' <<<"$rendered" || true)
  if [[ -n $placeholders ]]; then
    printf '%s\n' "$placeholders" >&2
    fail "the settings still name example domains (above); fill in edge-settings.yaml, managed-services.yaml and the images of kustomization.yaml"
  fi
}

require_cluster
require_edge
overlay=$(overlay_for prod)
has_cert_manager || fail "cert-manager is not installed; the prod overlay's Let's Encrypt Issuers need it (see kubernetes/README.md)"
check_credentials
check_ca_bundle
check_settings

kubectl apply --kustomize "$overlay"
wait_for_landscape
