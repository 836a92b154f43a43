# bluegate in a container: built on Debian 12, run on Debian 12 slim as a non-root user.
#   docker build -t bluegate .
#   docker run -p 8080:8080 -v bluegate-data:/var/lib/bluegate bluegate
# compose.yaml runs two nodes on PostgreSQL. docs/operations.md, "Containers".

FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      make g++ cmake ninja-build ccache pkg-config libboost-dev libssl-dev libsqlite3-dev \
      libphonenumber-dev libprotobuf-dev rapidjson-dev libtomlplusplus-dev libcli11-dev \
      libspdlog-dev libfmt-dev libpq-dev libvips-dev libavcodec-dev libavformat-dev \
      libswscale-dev libavutil-dev libjemalloc-dev dpkg-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt Makefile README.md ./
COPY src src
COPY docs docs
COPY packaging packaging
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBLUEGATE_TESTS=OFF -DBLUEGATE_BENCH=OFF \
    && cmake --build build -j "$(nproc)" \
    && packaging/make-deb.sh build && cp build/bluegate_*.deb /bluegate.deb

FROM debian:12-slim
# The package brings the binary and its libraries (its Depends); its maintainer scripts need no
# systemd here. The container runs as the bluegate user the package made.
COPY --from=build /bluegate.deb /tmp/bluegate.deb
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      /tmp/bluegate.deb ca-certificates \
    && rm -rf /var/lib/apt/lists/* /tmp/bluegate.deb \
    && mkdir -p /var/lib/bluegate && chown bluegate:bluegate /var/lib/bluegate && chmod 0700 /var/lib/bluegate
USER bluegate
VOLUME /var/lib/bluegate
EXPOSE 8080
ENV BLUEGATE_LISTEN=0.0.0.0:8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["bluegate"]
CMD ["serve", "--config", "/etc/bluegate/bluegate.toml", "--data-dir", "/var/lib/bluegate"]
