# Tollgate agent image: `docker build -t tollgate .` (docker-compose.yml builds it as the `tollgate` service).
# Configuration comes from the environment (TOLLGATE_* variables, see README "Configuration"), or
# from a file mounted at /etc/tollgate/tollgate.yaml with TOLLGATE_CONFIG=/etc/tollgate/tollgate.yaml.
# State (SQLite: locks, spend ledger, incidents, mail outbox) lives on the /var/lib/tollgate volume.

# ---- build: compile TypeScript, compile better-sqlite3, then keep production dependencies only ----
FROM node:20-bookworm-slim AS build
# better-sqlite3 12.x is compiled from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp compiles against the headers the image already has instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev \
 && chmod 0755 dist/cli.js

# ---- runtime ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TOLLGATE_POLICIES=/opt/tollgate/policies \
    TOLLGATE_DB=/var/lib/tollgate/tollgate.db \
    TOLLGATE_HTTP_PORT=9090
RUN groupadd --system tollgate \
 && useradd --system --gid tollgate --home-dir /var/lib/tollgate --no-create-home --shell /usr/sbin/nologin tollgate \
 && install -d -o tollgate -g tollgate -m 0750 /var/lib/tollgate \
 && install -d -m 0755 /etc/tollgate
WORKDIR /opt/tollgate
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY policies ./policies
COPY config ./config
COPY demo ./demo
RUN ln -s /opt/tollgate/dist/cli.js /usr/local/bin/tollgate
USER tollgate
VOLUME /var/lib/tollgate
# /healthz answers 200 while the agent is logged in to AMI, 503 otherwise (http.host is loopback).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:' + (process.env.TOLLGATE_HTTP_PORT || 9090) + '/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
CMD ["tollgate", "run"]
