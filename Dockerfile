# Gavel's container image: a Rust builder stage, then a small Debian runtime that holds only the
# binary (the page in web/dist is compiled into it), the example policies and a non-root user.
#
#   docker build --build-arg GAVEL_GIT_REVISION="$(git rev-parse --short=7 HEAD)" -t gavel .
#   docker run -p 8000:8000 -e GAVEL_JWT_SECRET=… gavel
#
# .dockerignore keeps .git out of the context, so the revision that `gavel --version` prints
# comes from the build argument ("unknown" without it).

FROM rust:1.94-slim-bookworm AS builder
WORKDIR /src
COPY . .
ARG GAVEL_GIT_REVISION=unknown
ENV GAVEL_GIT_REVISION=${GAVEL_GIT_REVISION}
# --locked: the committed Cargo.lock, nothing resolved anew.
RUN cargo build --release --locked --bin gavel

FROM debian:bookworm-slim
# No apt packages: TLS to PostgreSQL and SMTP uses rustls with its compiled-in roots
# (webpki-roots), and the healthcheck is the binary itself.
# A numeric, non-root user, so Kubernetes' runAsNonRoot can check it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/gavel --create-home gavel
COPY --from=builder /src/target/release/gavel /usr/local/bin/gavel
COPY policies/ /etc/gavel/policies/
USER 10001:10001
WORKDIR /var/lib/gavel
# Listen on every interface inside the container; the policy is the production example until
# a real one is mounted (GAVEL_POLICY). Secrets come from the environment, never the image.
ENV GAVEL_BIND=0.0.0.0:8000 \
    GAVEL_POLICY=/etc/gavel/policies/production.example.toml \
    GAVEL_LOG_FORMAT=json
EXPOSE 8000
# The binary probes itself (`gavel health`, plain HTTP), so the image needs no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/gavel", "health", "--url", "http://127.0.0.1:8000/healthz"]
# SIGTERM (docker stop's signal) lets in-flight requests finish (10 s at most).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gavel"]
CMD ["serve"]
