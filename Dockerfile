# corral-shop image: built on Debian bookworm with the packages of
# scripts/setup.sh (no test packages: BUILD_TESTING=OFF), run from scratch
# with the binaries, the shared libraries they link and nothing else: no
# shell, no package manager, no apt lists or .deb files. corral-shop and
# corral itself live in /opt/corral with their libraries, self-contained:
# any glibc-based image can copy it.
#   make image      (docker or podman, whichever works: scripts/engine.sh)

FROM docker.io/library/debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config libboost1.74-dev prometheus-cpp-dev \
      nlohmann-json3-dev libabsl-dev libcpp-httplib-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY lib lib
COPY cmd cmd
COPY examples/hello examples/hello
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j "$(nproc)" --target corral-shop \
 && strip /build/bin/corral-shop
# corral itself, packed for any glibc-based image (scripts/pack.sh):
# /opt/corral/bin/corral and /opt/corral/lib/, found through RUNPATH. Steps
# of their own after the compile above, so that layer stays cached.
RUN cmake --build /build -j "$(nproc)" --target corral \
 && strip /build/bin/corral
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends patchelf \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/pack.sh scripts/
RUN scripts/pack.sh /build/bin/corral /opt/corral \
 && scripts/pack.sh /build/bin/corral-shop /opt/corral
# The runtime tree: /opt/corral (both binaries and the libraries they share,
# found through RUNPATH; other images COPY it:
#   COPY --from=<this image> /opt/corral /opt/corral),
# glibc's own libraries and the dynamic loader at their paths, /tmp, and
# /usr/local/bin/corral-shop pointing into /opt/corral, and tini and
# dumb-init in /usr/bin and /sbin pointing to corral, which takes their
# flags under those names. The numeric user needs no /etc/passwd.
RUN mkdir -p /rootfs/usr/local/bin /rootfs/usr/bin /rootfs/sbin /rootfs/tmp \
      /rootfs/opt \
 && chmod 1777 /rootfs/tmp \
 && cp -a /opt/corral /rootfs/opt/ \
 && ln -s /opt/corral/bin/corral-shop /rootfs/usr/local/bin/corral-shop \
 && for dir in usr/bin sbin; do for name in tini dumb-init; do \
      ln -s /opt/corral/bin/corral /rootfs/$dir/$name; done; done \
 && ldd /build/bin/corral-shop /build/bin/corral \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
    | grep -E '/(libc|libm|libmvec|libpthread|libdl|librt|libresolv|ld-linux[-a-z0-9_]*)\.so' \
    | sort -u | xargs -I{} cp --parents -L {} /rootfs

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="corral-shop" \
      org.opencontainers.image.description="corral's demo store: a PID-1 master and one worker process per CPU, serving HTTP with zero-downtime drains and in-place worker rolls" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /rootfs /
# A numeric non-root user: runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080 9901
STOPSIGNAL SIGTERM
# The binary checks itself: the image has no shell and no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["/usr/local/bin/corral-shop", "healthcheck"]
# PID 1 is corral itself: no shell in between to swallow SIGTERM.
ENTRYPOINT ["/usr/local/bin/corral-shop"]
