#!/usr/bin/env bash
# Builds one image per service from the Dockerfile and tags it <prefix>/<service>:<version>, the
# version being the root package.json's. IMAGE_PREFIX (default: landscape) may name a registry,
# e.g. IMAGE_PREFIX=registry.example.com/landscape; push with docker push afterwards.
# For minikube, build straight into its engine first: eval "$(minikube docker-env)".
# For kind, load the images afterwards: kind load docker-image landscape/<service>:<version>.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${IMAGE_PREFIX:-landscape}
version=$(node -p 'require("./package.json").version')
# The image runs the Node version the project itself runs on (the node devDependency).
node_version=$(node -p 'process.versions.node')

if ! command -v docker >/dev/null 2>&1; then
  echo "images: docker is not installed; no image was built." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "images: no Docker engine answers (docker info failed); no image was built." >&2
  echo "images: start one, or point DOCKER_HOST at one (minikube: eval \"\$(minikube docker-env)\")." >&2
  exit 1
fi

services=()
for main in services/*/src/main.ts; do
  service=${main#services/}
  services+=("${service%%/*}")
done

images=()
for service in "${services[@]}"; do
  image="$prefix/$service:$version"
  images+=("$image")
  echo "images: building $image"
  docker build \
    --build-arg "SERVICE=$service" \
    --build-arg "NODE_VERSION=$node_version" \
    --tag "$image" \
    .
done

echo "images: built"
printf '  %s\n' "${images[@]}"
