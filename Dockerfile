# pingapi: a static binary on distroless, run as a non-root user.
#
#   docker build --build-arg VERSION=v1.0.0 --build-arg COMMIT=$(git rev-parse --short HEAD) -t pingapi .
#
# ICMP without root: the process opens unprivileged ICMP datagram sockets,
# which the kernel allows when its group is inside net.ipv4.ping_group_range.
# docker-compose.yml sets that sysctl for the container's own network
# namespace; see docs/DEPLOY.md for the NET_RAW fallback.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so the download layer is cached across source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
# The one build command, shared with deploy/test-binary.sh. No BuildKit-only
# syntax (RUN --mount): Debian's docker-compose 1.29 uses the classic builder.
RUN VERSION="${VERSION}" COMMIT="${COMMIT}" sh deploy/build.sh /out/pingapi \
 && mkdir -p /out/data

# distroless/static: CA certificates (for the JWKS fetch), tzdata, /etc/passwd
# with the nonroot user (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="pingapi" \
      org.opencontainers.image.description="RTT, jitter and packet loss over ICMP echo, as an authenticated HTTP API" \
      org.opencontainers.image.source="https://github.com/pingapi/pingapi" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/pingapi /pingapi
# A named volume mounted on /data starts with this owner, so the non-root
# service can write its signing key and monitor list there.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV DATA_DIR=/data \
    LISTEN_ADDR=:8080
VOLUME ["/data"]
# 8080: HTTP (behind NGINX). 7007 and 7008: the TCP echo listeners, when
# TCPECHO_LISTEN=:7007 and TCPECHO_TLS_LISTEN=:7008 are set (publish them:
# clients connect in directly, not through NGINX).
EXPOSE 8080 7007 7008
# No curl in the image: the binary checks itself (GET /healthz on LISTEN_ADDR).
# The same image runs the TCP echo agent, which serves no HTTP (so without
# the health check): docker run --no-healthcheck -v /etc/pingapi/agent.token:/token:ro
#   IMAGE agent --server echo.example.org:7008 --tls --token-file /token --name NAME
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/pingapi", "health", "--quiet"]
ENTRYPOINT ["/pingapi"]
CMD ["serve"]
