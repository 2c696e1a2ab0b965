package io.github.pgdiscovery.sample;

/**
 * The two kinds of sample node {@link LocalCluster} can launch, and what differs between them for
 * the launcher.
 */
enum Toolkit {
  AKKA(
      "Akka",
      "akka",
      "io.github.pgdiscovery.sample.SampleNode",
      25520,
      8558,
      "AKKA_DISCOVERY_POSTGRES_"),
  /** {@code --pekko}; Pekko's default ports, and its library's environment variables. */
  PEKKO(
      "Pekko",
      "pekko",
      "io.github.pgdiscovery.sample.pekko.PekkoSampleNode",
      17355,
      7626,
      "PEKKO_DISCOVERY_POSTGRES_");

  private final String displayName;
  private final String protocol;
  private final String mainClass;
  private final int firstRemotingPort;
  private final int firstManagementPort;
  private final String databaseEnvPrefix;

  Toolkit(
      String displayName,
      String protocol,
      String mainClass,
      int firstRemotingPort,
      int firstManagementPort,
      String databaseEnvPrefix) {
    this.displayName = displayName;
    this.protocol = protocol;
    this.mainClass = mainClass;
    this.firstRemotingPort = firstRemotingPort;
    this.firstManagementPort = firstManagementPort;
    this.databaseEnvPrefix = databaseEnvPrefix;
  }

  /** "Akka" or "Pekko", as the console shows it. */
  String displayName() {
    return displayName;
  }

  /**
   * The scheme of the toolkit's actor addresses, as Management reports them: {@code akka} or {@code
   * pekko}.
   */
  String protocol() {
    return protocol;
  }

  String mainClass() {
    return mainClass;
  }

  /**
   * The node's class path: its module's jar and dependencies, which run-local.sh passes as the
   * system property {@code sample.akka.classpath} ({@code sample.pekko.classpath}); the launcher's
   * own holds neither node.
   */
  String nodeClassPath() {
    String property = "sample." + protocol + ".classpath";
    String classPath = System.getProperty(property);
    if (classPath == null || classPath.isBlank()) {
      throw new IllegalStateException(
          property
              + " is not set: start the launcher with sample/run-local.sh, which builds the node and sets it");
    }
    return classPath;
  }

  /** Where the nodes' Artery ports start: the toolkit's default, then upwards. */
  int firstRemotingPort() {
    return firstRemotingPort;
  }

  /** Where the nodes' Management ports start: the toolkit's default, then upwards. */
  int firstManagementPort() {
    return firstManagementPort;
  }

  /** The environment variable of the toolkit's library for the database URL. */
  String urlEnv() {
    return databaseEnvPrefix + "URL";
  }

  String userEnv() {
    return databaseEnvPrefix + "USER";
  }

  String passwordEnv() {
    return databaseEnvPrefix + "PASSWORD";
  }
}
