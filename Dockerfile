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

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /service /service
USER nonroot:nonroot
ENTRYPOINT ["/service"]
