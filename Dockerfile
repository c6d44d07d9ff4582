# corral-shop image: built on Debian bookworm with the same packages as
# scripts/setup.sh, run on bookworm-slim with only the runtime libraries.
#   make image      (docker or podman, whichever is present)

FROM docker.io/library/debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config libboost1.74-dev prometheus-cpp-dev \
      nlohmann-json3-dev libabsl-dev libcpp-httplib-dev googletest \
      libgtest-dev libgmock-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY lib lib
COPY cmd cmd
COPY tests tests
COPY e2e e2e
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j "$(nproc)" --target corral-shop \
 && strip /build/bin/corral-shop

FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libcpp-httplib0.11 libprometheus-cpp-core1.0 \
      libbrotli1 libssl3 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/corral-shop /usr/local/bin/corral-shop
# A numeric non-root user: runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["/usr/local/bin/corral-shop", "healthcheck"]
# PID 1 is corral itself: no shell in between to swallow SIGTERM.
ENTRYPOINT ["/usr/local/bin/corral-shop"]
