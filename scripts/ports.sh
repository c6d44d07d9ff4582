# Sourced by the bench and test scripts: free_port prints a TCP port nobody
# listens on, below the kernel's ephemeral range so no outgoing connection
# holds it either.
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 22000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
