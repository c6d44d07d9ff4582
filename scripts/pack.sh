#!/usr/bin/env bash
# Packs a binary into a directory that can be copied into any glibc-based
# image: DEST/bin/NAME and DEST/lib/ with every library ldd resolves for it
# except glibc's own, which the image already has.
#   scripts/pack.sh /build/bin/corral /opt/corral
# The binary finds its libraries through RUNPATH $ORIGIN/../lib, and each
# library its own dependencies through RUNPATH $ORIGIN: RUNPATH is not
# transitive, and no LD_LIBRARY_PATH leaks into the programs corral starts.
# libstdc++ and libgcc_s are packed too: slim images may lack them.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY DEST" >&2
  exit 2
fi
binary=$1
dest=$2
name=$(basename "$binary")
glibc='^(libc|libm|libmvec|libpthread|libdl|librt|libresolv|libutil|libanl|ld-linux[-a-z0-9_]*)\.so'

resolved() {  # the absolute paths ldd resolves for $1
  env -u LD_LIBRARY_PATH ldd "$1" | awk '
    / => not found/ { print "not found: " $1 > "/dev/stderr"; failed = 1 }
    $2 == "=>" && $3 ~ /^\// { print $3 }
    END { exit failed }'
}

mkdir -p "$dest/bin" "$dest/lib"
cp "$binary" "$dest/bin/$name"
resolved "$binary" | sort -u | while read -r lib; do
  base=$(basename "$lib")
  grep -qE "$glibc" <<<"$base" && continue
  cp -L "$lib" "$dest/lib/$base"
  chmod 0644 "$dest/lib/$base"
  patchelf --set-rpath '$ORIGIN' "$dest/lib/$base"
done
patchelf --set-rpath '$ORIGIN/../lib' "$dest/bin/$name"

# Every library must now come from DEST/lib, or be glibc's.
outside=$(resolved "$dest/bin/$name" | grep -vE "^$dest/(bin/\.\./)?lib/" |
  grep -vE "/$(sed 's/^\^//' <<<"$glibc")" || true)
if [ -n "$outside" ]; then
  echo "pack: $name still loads from outside $dest/lib:" >&2
  echo "$outside" >&2
  exit 1
fi
echo "pack: $dest: $(ls "$dest/lib" | wc -l) libraries, $(du -sh "$dest" | cut -f1)" >&2
