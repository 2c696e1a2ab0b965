#!/usr/bin/env bash
# Builds the libraries and the sample, then starts a local cluster: an embedded PostgreSQL and N sample nodes that
# form one Akka cluster through it, or with --pekko one Apache Pekko cluster. Needs only a JDK 17; works from any
# directory. Arguments go to LocalCluster:
#   sample/run-local.sh [--pekko] [--nodes N] [--exit-when-formed] [--timeout SECONDS]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

echo "Building the libraries and the sample with Maven (the first build downloads dependencies, which takes a while)..."
# One reactor build of the launcher and both nodes, with the library modules they need (-am); nothing is installed.
# -q keeps a successful build silent; Maven still prints errors, and set -e stops here on failure. Each module's
# target/lib is made afresh by the build, so no jar of an older build stays on a class path.
"$root/mvnw" -q -B -f "$root/pom.xml" package -DskipTests -pl sample/launcher,sample/akka,sample/pekko -am

# Each node module's own class path, as an application has one: the Akka node never sees Pekko, nor the reverse.
sample="$root/sample"
akka_classpath="$sample/akka/target/lib/*:$sample/akka/target/akka-discovery-postgres-sample.jar"
pekko_classpath="$sample/pekko/target/lib/*:$sample/pekko/target/pekko-discovery-postgres-sample.jar"

# The same Java as mvnw uses: JAVA_HOME when it is set, otherwise the one on the PATH.
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java" -Dsample.akka.classpath="$akka_classpath" -Dsample.pekko.classpath="$pekko_classpath" \
  -cp "$sample/launcher/target/lib/*:$sample/launcher/target/discovery-postgres-sample-launcher.jar" \
  io.github.pgdiscovery.sample.LocalCluster "$@"
