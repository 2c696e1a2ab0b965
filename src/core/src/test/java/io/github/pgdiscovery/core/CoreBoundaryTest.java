package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.github.pgdiscovery.testing.RepositoryFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The promises the core's structure makes, checked on its sources: the protocol is a state machine
 * with no I/O, threads or clocks, and no part of the core names Akka or Pekko, so that one copy
 * serves both adapters.
 */
final class CoreBoundaryTest {

  private static final Path CORE =
      RepositoryFiles.path("src/core/src/main/java/io/github/pgdiscovery/core");

  /**
   * What would make the protocol depend on the world: I/O, threads, locks, clocks, logging, shared
   * randomness. InetAddress is allowed: HostNames parses IP literals with it and never lets it near
   * a resolver.
   */
  private static final Pattern WORLD =
      Pattern.compile(
          "\\bjava\\.sql\\b|\\bjava\\.io\\b|\\bjava\\.net\\.(?!InetAddress;|UnknownHostException;)|\\borg\\.slf4j\\b|"
              + "\\bThread\\b|\\bExecutor\\w*|CompletableFuture|\\bsynchronized\\b|\\bAtomic\\w+|\\bLock\\b|System\\.nanoTime|"
              + "System\\.currentTimeMillis|Instant\\.now|\\bClock\\b|ThreadLocalRandom|Math\\.random|new Random\\(");

  private static final Pattern STRING_LITERAL = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");

  @Test
  void theProtocolStateMachineUsesNoIoThreadsOrClocks() throws IOException {
    List<String> found = new ArrayList<>();
    for (Path source : sources(CORE.resolve("protocol"))) {
      Matcher matcher = WORLD.matcher(code(source));
      while (matcher.find()) {
        found.add(source.getFileName() + ": " + matcher.group());
      }
    }

    assertEquals(List.of(), found);
  }

  @Test
  void noPartOfTheCoreNamesAkkaOrPekko() throws IOException {
    List<String> found = new ArrayList<>();
    for (Path source : sources(CORE)) {
      String code = code(source);
      for (String line : code.split("\n")) {
        if (line.matches("\\s*import\\s+(static\\s+)?(akka|org\\.apache\\.pekko)\\..*")) {
          found.add(source.getFileName() + ": " + line.trim());
        }
      }
      Matcher literal = STRING_LITERAL.matcher(code);
      while (literal.find()) {
        String text = literal.group().toLowerCase(Locale.ROOT);
        if (text.contains("akka") || text.contains("pekko")) {
          found.add(source.getFileName() + ": " + literal.group());
        }
      }
    }

    assertEquals(List.of(), found);
  }

  /**
   * What a user names: the discovery method's class, the readiness check, the route. All else is
   * marked.
   */
  private static final Set<String> ADAPTER_API =
      Set.of("PostgresServiceDiscovery", "PostgresReadinessCheck", "PostgresDiscoveryRoutes");

  private static final Pattern PUBLIC_TYPE =
      Pattern.compile(
          "^public\\s+(?:final\\s+|abstract\\s+)*(?:class|interface|record|enum|@interface)\\s+(\\w+)",
          Pattern.MULTILINE);

  @Test
  void everyPackageOfTheCoreIsMarkedInternal() throws IOException {
    List<String> unmarked = new ArrayList<>();
    try (Stream<Path> directories = Files.walk(CORE)) {
      for (Path directory : directories.filter(Files::isDirectory).sorted().toList()) {
        Path info = directory.resolve("package-info.java");
        if (!Files.exists(info) || !code(info).contains("@Internal\n")) {
          unmarked.add(CORE.relativize(directory).toString());
        }
      }
    }

    assertEquals(List.of(), unmarked, "core packages without an @Internal package-info");
  }

  @Test
  void everyPublicTypeOfBothAdaptersIsApiOrMarkedInternal() throws IOException {
    List<String> unmarked = new ArrayList<>();
    List<String> api = new ArrayList<>();
    for (Path adapter :
        List.of(
            RepositoryFiles.path("src/akka/src/main/java/io/github/pgdiscovery/akka"),
            RepositoryFiles.path("src/pekko/src/main/java/io/github/pgdiscovery/pekko"))) {
      for (Path source : sources(adapter)) {
        String code = code(source);
        Matcher type = PUBLIC_TYPE.matcher(code);
        if (!type.find()) {
          continue;
        }
        boolean marked = code.substring(0, type.start()).contains("@InternalApi");
        if (ADAPTER_API.contains(type.group(1))) {
          api.add(type.group(1));
          if (marked) {
            unmarked.add(source + " is API but marked internal");
          }
        } else if (!marked) {
          unmarked.add(source + ": public " + type.group(1) + " is neither API nor @InternalApi");
        }
      }
    }

    assertEquals(List.of(), unmarked);
    assertEquals(2 * ADAPTER_API.size(), api.size(), "each adapter has the whole API: " + api);
  }

  @Test
  void theChecksReadTheSources() throws IOException {
    // A moved directory would make both checks above pass on nothing.
    assertFalse(sources(CORE.resolve("protocol")).isEmpty());
    assertFalse(code(CORE.resolve("protocol/DiscoveryProtocol.java")).contains("/**"));
  }

  private static List<Path> sources(Path directory) throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(path -> path.toString().endsWith(".java")).sorted().toList();
    }
  }

  /** The source without comments: a comment may well mention a thread or Akka. */
  private static String code(Path source) throws IOException {
    String text = Files.readString(source);
    text = text.replaceAll("(?s)/\\*.*?\\*/", "");
    StringBuilder code = new StringBuilder();
    for (String line : text.split("\n")) {
      if (!line.trim().startsWith("//")) {
        code.append(line.replaceAll("\\s//\\s.*$", "")).append('\n');
      }
    }
    return code.toString();
  }
}
