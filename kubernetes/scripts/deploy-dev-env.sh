#!/usr/bin/env bash
# Deploys the development landscape (kubernetes/overlays/dev) into namespace hands-on of the current
# kubectl context and waits until it is ready.
#  - Credentials: secrets/*.env are written from the *.env.example files the first time, with a
#    random password for every __RANDOM__; later runs keep them.
#  - TLS for minikube.me: issued by cert-manager (overlays/dev/certificate) when it is installed;
#    otherwise a self-signed certificate made here with openssl.
#  - Images: build them first (npm run images) where the cluster finds them, see kubernetes/README.md.
# EDGE=gateway (default: a Gateway and HTTPRoutes, overlays/dev-gateway) or EDGE=ingress (an Ingress for
# ingress-nginx, overlays/dev).
# WAIT_TIMEOUT (seconds, default 300) bounds the wait.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# Credentials and certificate live in overlays/dev, which the gateway variant includes.
settings=$kubernetes_dir/overlays/dev

random_password() {
  head -c 24 /dev/urandom | base64 | tr -d '/+=\n'
}

write_credentials() {
  local example env_file line
  for example in "$settings"/secrets/*.env.example; do
    env_file=${example%.example}
    [[ -e $env_file ]] && continue
    (
      umask 077
      while IFS= read -r line || [[ -n $line ]]; do
        while [[ $line == *__RANDOM__* ]]; do
          line=${line/__RANDOM__/$(random_password)}
        done
        printf '%s\n' "$line"
      done <"$example" >"$env_file"
    )
    log "wrote ${env_file#"$kubernetes_dir"/} (git-ignored)"
  done
}

self_signed_certificate() {
  require openssl
  local folder
  folder=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the folder is local to this function
  trap "rm -rf '$folder'" RETURN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
    -subj /CN=minikube.me -addext subjectAltName=DNS:minikube.me \
    -keyout "$folder/tls.key" -out "$folder/tls.crt" 2>/dev/null
  kubectl create secret tls tls-certificate --namespace "$namespace" \
    --cert "$folder/tls.crt" --key "$folder/tls.key" --dry-run=client --output yaml |
    kubectl apply --filename -
}

require_cluster
require_edge
overlay=$(overlay_for dev)
write_credentials

kubectl apply --kustomize "$overlay"
if has_cert_manager; then
  log "cert-manager found: it issues the certificate for minikube.me"
  kubectl apply --kustomize "$settings/certificate"
elif kubectl get secret tls-certificate --namespace "$namespace" >/dev/null 2>&1; then
  log "cert-manager not found: keeping the existing certificate in secret tls-certificate"
else
  log "cert-manager not found: making a self-signed certificate for minikube.me with openssl"
  self_signed_certificate
fi

wait_for_landscape
log "try: curl -k https://minikube.me/actuator/health (with minikube.me in /etc/hosts, see kubernetes/README.md)"
