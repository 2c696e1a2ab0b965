package io.github.pgdiscovery.sample;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
import java.util.Map;

/**
 * Reads a sample node's configuration, the same way for the Akka and the Pekko node, each from its
 * own resource ({@code application.conf}, {@code pekko-node.conf}).
 */
public final class NodeConfig {

  private NodeConfig() {}

  /**
   * System properties, then {@code resource}, then every {@code reference.conf}, with {@code
   * ${?VAR}} substitutions taken from {@code env} instead of the process environment, so tests can
   * check what a node resolves for a given environment. What {@code ConfigFactory.load(resource)}
   * gives for the process environment.
   */
  public static Config load(ClassLoader loader, String resource, Map<String, String> env) {
    Config unresolved =
        ConfigFactory.defaultOverrides(loader)
            .withFallback(
                ConfigFactory.parseResources(
                    loader, resource, ConfigParseOptions.defaults().setAllowMissing(false)))
            .withFallback(ConfigFactory.defaultReferenceUnresolved(loader));
    // The variables go below everything at the root, where ${?VAR} looks for them, and are taken
    // out again after
    // resolving. (resolveWith(a separate source) would be neater, but it breaks on reference.conf's
    // self-referencing substitutions such as ${akka.cluster.distributed-data}.)
    ConfigObject environment = ConfigValueFactory.fromMap(env, "environment variables");
    ConfigObject resolved =
        unresolved
            .withFallback(environment)
            .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false))
            .root();
    for (String name : environment.keySet()) {
      if (!unresolved.root().containsKey(name)) {
        resolved = resolved.withoutKey(name);
      }
    }
    return resolved.toConfig();
  }
}
