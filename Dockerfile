# One image per service:  docker build --build-arg SERVICE=env-provisioner -t IMAGE .
# Multi-stage: a release build in the Rust image, then only the binary on distroless
# (glibc + CA certificates, no shell), running as a non-root user.
ARG RUST_IMAGE=rust:1.91-bookworm

FROM ${RUST_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "set --build-arg SERVICE=<crate under functions/>" >&2; exit 1; }
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p "${SERVICE}" --bin "${SERVICE}" \
 && cp "target/release/${SERVICE}" /service

# backup-runner's stage (`--target with-pg-tools`): the binary beside PostgreSQL's client
# tools from the PGDG repository, newest major first, so pg_dump is never older than the
# server it dumps (it refuses a newer server; the runner picks the newest that fits).
FROM debian:bookworm-slim AS with-pg-tools
ARG PG_MAJORS="17 16"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    | gpg --dearmor -o /usr/share/keyrings/pgdg.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/pgdg.gpg] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
    > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends $(for v in ${PG_MAJORS}; do echo postgresql-client-$v; done) \
 && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /service /service
USER 65532:65532
ENTRYPOINT ["/service"]

# Every other service: the binary alone on distroless (the default, last stage).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /service /service
USER nonroot:nonroot
ENTRYPOINT ["/service"]
