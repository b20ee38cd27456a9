# proxmox-mcp container image: the single binary built with `deno compile` in a builder stage,
# run as a non-root user from a minimal (distroless) runtime image with a read-only root
# filesystem. Build where the internet is:
#   docker build -t ghcr.io/proxmox-mcp/proxmox-mcp:0.1.0 .
# Default command: remote mode on 0.0.0.0:8080 (needs "profiles" in the mounted config).
# For stdio instead: docker run -i --rm -e PROXMOX_URL -e PROXMOX_TOKEN <image> serve

ARG DENO_VERSION=2.9.6

FROM denoland/deno:debian-${DENO_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY src ./src
COPY scripts ./scripts
# The same compile tasks the README documents (deno task compile:<target>).
RUN case "${TARGETARCH:-amd64}" in \
      arm64) target=linux-arm64 ;; \
      *) target=linux-x64 ;; \
    esac \
 && deno task compile:${target} \
 && mkdir -p /out \
 && cp dist/proxmox-mcp-${target} /out/proxmox-mcp \
 && /out/proxmox-mcp --version

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/proxmox-mcp /usr/local/bin/proxmox-mcp
# The config (with the profiles) is mounted here; the audit log goes to a writable volume.
ENV PROXMOX_MCP_CONFIG=/etc/proxmox-mcp/config.json \
    PROXMOX_MCP_AUDIT_PATH=/var/log/proxmox-mcp/audit.jsonl
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/proxmox-mcp", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/proxmox-mcp"]
CMD ["serve", "--http", "0.0.0.0:8080"]
