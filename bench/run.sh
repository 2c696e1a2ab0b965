#!/usr/bin/env bash
# Builds the libraries, the sample (its Akka node is what the formation benchmark launches) and the benchmarks, then
# runs them and writes BENCHMARKS.md. Needs only a JDK 17. Starts an embedded PostgreSQL unless
# AKKA_DISCOVERY_POSTGRES_URL (and _USER, _PASSWORD) point at a server.
#   bench/run.sh                 the full run (about half an hour on 2 cores)
#   bench/run.sh --smoke         tiny sizes, to check that everything works; writes bench/target/BENCHMARKS-smoke.md
#   bench/run.sh --only convergence,cost
#   bench/run.sh --postgres-version 14   the embedded server's major version (14 to 18, default 18)
set -euo pipefail

# The server version is chosen when the benchmarks are built (it picks the embedded binaries); the other options go
# to the benchmarks.
postgres=()
args=()
while (($#)); do
  if [[ "$1" == "--postgres-version" && $# -ge 2 ]]; then
    postgres=("-Dpostgres.version=$2")
    shift 2
  else
    args+=("$1")
    shift
  fi
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

echo "Building the libraries, the sample and the benchmarks..."
# One reactor build of the benchmarks and the Akka sample node (what the formation benchmark launches), with the
# library modules they need; nothing is installed. Each module's target/lib is made afresh by the build.
"$root/mvnw" -q -B -f "$root/pom.xml" package -DskipTests -pl bench,sample/akka -am ${postgres[@]+"${postgres[@]}"}

java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# BENCH_JAVA_OPTS, e.g. -Xmx16g for the simulation's larger cold starts (N² table entries, about 0.7 GB per 10^6).
exec "$java" ${BENCH_JAVA_OPTS:-} -Dbench.root="$root" -cp "$root/bench/target/lib/*:$root/bench/target/discovery-postgres-bench.jar" \
  io.github.pgdiscovery.bench.Benchmarks \
  --node-classpath "$root/sample/akka/target/lib/*:$root/sample/akka/target/akka-discovery-postgres-sample.jar" ${args[@]+"${args[@]}"}
