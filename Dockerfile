# syntax=docker/dockerfile:1
# Build: docker build -t compute-studio .
# Run:   docker run -p 8080:8080 -v compute-studio-data:/data compute-studio
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Queries are checked against the committed .sqlx/ data, not a database.
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock build.rs ./
COPY .sqlx .sqlx
COPY migrations migrations
COPY templates templates
COPY static static
COPY src src
RUN cargo build --release --locked --bin compute-studio \
 && strip target/release/compute-studio

FROM debian:bookworm-slim
# reqwest verifies Azure's TLS certificates against the system's certificate authorities: the
# build stage's Debian has them, so the final image takes the one file and runs no package
# manager (apt-get here would add ~90 MB of package lists, caches and dependencies).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin compute-studio \
 && mkdir /data && chown compute-studio /data
COPY --from=build /src/target/release/compute-studio /usr/local/bin/compute-studio
USER compute-studio
WORKDIR /data
# Every setting comes from the environment; see README.md for the full table.
ENV CS_LISTEN=0.0.0.0:8080 \
    CS_DATABASE_URL=sqlite:///data/compute-studio.db \
    RUST_LOG=info
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["compute-studio", "healthcheck"]
ENTRYPOINT ["compute-studio"]
CMD ["serve"]
