#!/usr/bin/env bash
# Builds the libraries and the sample, then starts a local cluster: an embedded PostgreSQL and N sample nodes that
# form one Akka cluster through it, or with --pekko one Apache Pekko cluster. Needs only a JDK 17; works from any
# directory. Arguments go to LocalCluster:
#   sample/run-local.sh [--pekko] [--nodes N] [--exit-when-formed] [--timeout SECONDS]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

echo "Building the libraries and the sample with Maven (the first build downloads dependencies, which takes a while)..."
# -q keeps a successful build silent; Maven still prints errors, and set -e stops here on failure. The sample holds
# both nodes, so it depends on both libraries: the Akka one (the root project) and the Pekko one (pekko/).
"$root/mvnw" -q -B -f "$root/pom.xml" install -DskipTests
"$root/mvnw" -q -B -f "$root/pekko/pom.xml" install -DskipTests
# The class path is every jar in target/lib: start it afresh, so that no jar of an older build (another embedded
# PostgreSQL version, which the embedded server refuses to choose between) stays behind.
rm -rf "$root/sample/target/lib"
"$root/mvnw" -q -B -f "$root/sample/pom.xml" package -DskipTests

# The same Java as mvnw uses: JAVA_HOME when it is set, otherwise the one on the PATH.
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" -cp "$root/sample/target/lib/*:$root/sample/target/akka-discovery-postgres-sample.jar" \
  io.github.pgdiscovery.sample.LocalCluster "$@"
