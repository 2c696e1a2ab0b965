package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The promises the core's structure makes, checked on its sources: the protocol is a state machine with no I/O,
 * threads or clocks, and no part of the core names Akka or Pekko, so that one copy serves both adapters.
 */
final class CoreBoundaryTest {

  private static final Path CORE = Path.of("src/main/java/io/github/pgdiscovery/core");

  /**
   * What would make the protocol depend on the world: I/O, threads, locks, clocks, logging, shared randomness.
   * InetAddress is allowed: HostNames parses IP literals with it and never lets it near a resolver.
   */
  private static final Pattern WORLD = Pattern.compile(
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
