#!/usr/bin/env bash
# Builds the libraries, the sample (its Akka node is what the formation benchmark launches) and the benchmarks, then
# runs them and writes BENCHMARKS.md. Needs only a JDK 17. Starts an embedded PostgreSQL unless
# AKKA_DISCOVERY_POSTGRES_URL (and _USER, _PASSWORD) point at a server.
#   bench/run.sh                 the full run (about half an hour on 2 cores)
#   bench/run.sh --smoke         tiny sizes, to check that everything works; writes bench/target/BENCHMARKS-smoke.md
#   bench/run.sh --only convergence,cost
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

echo "Building the libraries, the sample and the benchmarks..."
"$root/mvnw" -q -B -f "$root/pom.xml" install -DskipTests
# The sample depends on the Pekko library too (it also holds a Pekko node, which the benchmarks do not run).
"$root/mvnw" -q -B -f "$root/pekko/pom.xml" install -DskipTests
"$root/mvnw" -q -B -f "$root/sample/pom.xml" package -DskipTests
"$root/mvnw" -q -B -f "$root/bench/pom.xml" package -DskipTests

java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" -Dbench.root="$root" -cp "$root/bench/target/lib/*:$root/bench/target/akka-discovery-postgres-bench.jar" \
  io.github.pgdiscovery.bench.Benchmarks \
  --node-classpath "$root/sample/target/lib/*:$root/sample/target/akka-discovery-postgres-sample.jar" "$@"
