# ID Chat: one image for both Python processes.
#
#   docker build -t idchat:local .
#   HTTP service:  docker run ... idchat:local                      (python -m xmpp_plugin)
#   component:     docker run ... idchat:local python -m component
#
# docker-compose.yml builds and wires it (docs/deployment.md). The image holds
# no key, secret or settings file: every setting comes from the environment
# (IDCHAT_<SECTION>_<FIELD>, see README) and keys are mounted as files.
# The published ID Contact test keys (demo/test-keys/) are deliberately NOT in
# the image: an image is what goes to production, and a key that anyone can
# download must never be one configuration line away there. A local try-out
# mounts them from the checkout instead (docs/deployment.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

################################################################################
# Converse.js from npm (web/package.json + web/package-lock.json), the same
# locked version as `make setup` installs.
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
# why: --omit=dev leaves out the test-only packages (axe-core, @xmldom/xmldom);
# --ignore-scripts: the npm package ships dist/ prebuilt, nothing has to run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && test -f node_modules/converse.js/dist/converse.min.js \
 && find node_modules/converse.js/dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' \) \
      -exec gzip -9 -k -f {} +

################################################################################
# The application. The last stage, so a plain `docker build .` produces it.
FROM ${PYTHON_IMAGE} AS app

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# why: a fixed numeric uid/gid, so mounted key files can be made readable to it
# (chown 10001) and orchestrators can check "not root" without a passwd file.
RUN groupadd --system --gid 10001 idchat \
 && useradd --system --uid 10001 --gid idchat --home-dir /nonexistent \
            --no-create-home --shell /usr/sbin/nologin idchat \
 && python -m venv /opt/venv

WORKDIR /app
COPY pyproject.toml README.md ./
COPY xmpp_plugin/ xmpp_plugin/
COPY component/ component/
# why -e: xmpp_plugin/app.py finds the pages at Path(__file__).parent.parent / "web".
# A plain `pip install .` would run a second copy of the code from site-packages,
# next to which there is no web/. Editable keeps one copy, here in /app (owned by
# root, read-only to the service user); the dependencies go to /opt/venv as usual.
RUN pip install -e . \
 && rm -rf idchat.egg-info

COPY web/templates/ web/templates/
COPY web/static/ web/static/
COPY web/idchat/ web/idchat/
# the path xmpp_plugin/app.py serves at /converse/ (CONVERSE_DIST)
COPY --from=web /web/node_modules/converse.js/dist/ web/node_modules/converse.js/dist/

# why: the audit log's folder (log.audit_file in docker-compose.yml); a named
# volume mounted here takes over this owner, so the service can write to it.
RUN mkdir -p /var/log/idchat && chown idchat:idchat /var/log/idchat

# why: inside a container the service must listen beyond loopback to be
# reachable at all; the container's network is the boundary (publish to
# 127.0.0.1 only, docker-compose.yml).
ENV IDCHAT_HTTP_HOST=0.0.0.0 \
    IDCHAT_HTTP_PORT=8002
EXPOSE 8002

USER 10001:10001

# Liveness of the HTTP service (the default command). The component has no
# HTTP port: docker-compose.yml gives it its own health check.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('IDCHAT_HTTP_PORT', '8002'), timeout=2)"]

CMD ["python", "-m", "xmpp_plugin"]
