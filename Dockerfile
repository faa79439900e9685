# Switchyard's runtime image: the release binary on a slim Debian 12 base, as a non-root user,
# its data (the embedded SQLite database and the generated master key) in the volume /data.
#
# The binary is built on the host, not in the image (no Rust image is needed, nor a registry):
#
#   cargo build --release -p switchyard
#   deploy/base-image.sh                  # once: switchyard-base:bookworm, by debootstrap
#   docker build -t switchyard .
#
# (deploy/build-image.sh does all three, with any CARGO_TARGET_DIR.) Where a registry is
# reachable, `--build-arg BASE=debian:bookworm-slim` replaces the locally built base. Build the
# binary on Debian 12 or a system with an older glibc (2.36 at most), or it will not start here.
# Configuration is by environment: every flag of `switchyard --help` has its SWITCHYARD_*
# variable. See docs/deployment.md.
ARG BASE=switchyard-base:bookworm
FROM ${BASE}

RUN groupadd --system --gid 10001 switchyard \
 && useradd --system --uid 10001 --gid switchyard --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin switchyard \
 && mkdir -p /data \
 && chown switchyard:switchyard /data \
 && chmod 0700 /data

COPY target/release/switchyard /usr/local/bin/switchyard
COPY deploy/docker/healthcheck /usr/local/bin/switchyard-healthcheck

ENV SWITCHYARD_LISTEN=0.0.0.0:8950 \
    SWITCHYARD_DATA_DIR=/data
VOLUME /data
WORKDIR /data
USER switchyard:switchyard
EXPOSE 8950

HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["switchyard-healthcheck"]

ENTRYPOINT ["switchyard"]
CMD ["serve"]
