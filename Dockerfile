# syntax=docker/dockerfile:1
# One image for every service of the landscape: the build argument SERVICE picks the one the
# container runs (scripts/images.sh builds each as landscape/<service>:<version>). The services run
# their TypeScript directly on Node 24, so there is no compile step.
ARG NODE_VERSION=24.21.0

# Only the package manifests, so the dependency layer below is rebuilt only when one of them changes.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -depth -type d -empty -delete

FROM node:${NODE_VERSION}-bookworm-slim AS dependencies
WORKDIR /app
COPY --from=manifests /src/ ./
# Production dependencies only. The workspaces stay where they are: npm links node_modules/@landscape/*
# to libs/ and services/, so their .ts files resolve outside node_modules, where Node strips types.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm

# What esbuild builds, once, with the development dependencies: the storefront's pages and the bundled
# packages bundled into a few files each (libs/vendor). Only the built files reach the image.
FROM node:${NODE_VERSION}-bookworm-slim AS built
WORKDIR /src
COPY --from=manifests /src/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY libs/vendor/ libs/vendor/
COPY services/web/ services/web/
RUN npm run build -w @landscape/vendor && npm run build -w @landscape/web

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /app
COPY --from=dependencies /app/ ./
COPY libs/ libs/
COPY services/ services/
COPY --from=built /src/libs/vendor/dist/ libs/vendor/dist/
COPY --from=built /src/services/web/dist/ services/web/dist/
# The default configuration for `docker run`; Kubernetes mounts its own and sets CONFIG_LOCATION.
COPY config-repo/ config-repo/

ARG SERVICE
RUN test -f "services/${SERVICE}/src/main.ts" \
 || { echo "build argument SERVICE must name a folder of services/ (got '${SERVICE}')" >&2; exit 1; }
ENV SERVICE=${SERVICE}
# Port 80 on every interface; Kubernetes sets its own profiles.
ENV CONFIG_PROFILES=docker
# The compile cache keeps the type-stripped sources with their bytecode, so a restarted container (its
# /tmp survives in the pod) starts without loading the type stripper again.
ENV NODE_COMPILE_CACHE=/tmp/node-compile-cache
# Two malloc arenas instead of up to 8 per core: less memory kept by allocator threads (see scripts/landscape.ts).
ENV MALLOC_ARENA_MAX=2
LABEL org.opencontainers.image.title="landscape/${SERVICE}"

# Everything above belongs to root and is read-only for the service, which needs no writable path but
# /tmp (an emptyDir in Kubernetes; --read-only --tmpfs /tmp with docker run).
USER 10001:10001
EXPOSE 80
# exec: node becomes PID 1 and receives SIGTERM itself for the graceful shutdown.
ENTRYPOINT ["/bin/sh", "-c", "exec node --max-semi-space-size=4 --max-old-space-size=512 \"services/${SERVICE}/src/main.ts\""]
