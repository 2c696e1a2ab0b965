package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** What a user copies must be what the build produces: the versions in README.md, the poms and the changelog. */
final class ReleaseFilesTest {

  private static final String VERSION = System.getProperty("project.version", "");

  @Test
  void theReadmesDependencySnippetsNameTheVersionThisBuildProduces() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    List<String> found = new ArrayList<>();
    Matcher snippet = Pattern.compile(
        "<artifactId>(akka|pekko)-discovery-postgres</artifactId>\\s*<version>([^<]+)</version>").matcher(readme);
    while (snippet.find()) {
      found.add(snippet.group(1) + " " + snippet.group(2));
    }

    assertTrue(!VERSION.isEmpty(), "the build passes project.version to the tests");
    assertEquals(List.of("akka " + VERSION, "pekko " + VERSION), found);
  }

  @Test
  void thePekkoLibraryTheSampleAndTheBenchmarksAreOfTheSameVersion() throws IOException {
    assertEquals(VERSION, property(Files.readString(Path.of("bench/pom.xml")), "akka-discovery-postgres.version"),
        "bench/pom.xml");
    assertEquals(VERSION, projectVersion(Files.readString(Path.of("pekko/pom.xml"))), "pekko/pom.xml");
    String sample = Files.readString(Path.of("sample/pom.xml"));
    assertEquals(VERSION, property(sample, "akka-discovery-postgres.version"), "sample/pom.xml");
    assertEquals(VERSION, property(sample, "pekko-discovery-postgres.version"), "sample/pom.xml");
  }

  @Test
  void theChangelogHasAnEntryForThisVersion() throws IOException {
    String release = VERSION.replace("-SNAPSHOT", "");
    String changelog = Files.readString(Path.of("CHANGELOG.md"));

    assertTrue(changelog.contains("\n## " + release + " "), "CHANGELOG.md has no entry for " + release);
    assertTrue(Files.readString(Path.of("LICENSE")).contains("Apache License\n                           Version 2.0"));
  }

  private static String projectVersion(String pom) {
    // The project's own version: the first <version> after its artifactId, before any dependency.
    Matcher matcher = Pattern.compile("</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(matcher.find());
    return matcher.group(1);
  }

  private static String property(String pom, String name) {
    Matcher matcher = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
    assertTrue(matcher.find(), name);
    return matcher.group(1);
  }
}
