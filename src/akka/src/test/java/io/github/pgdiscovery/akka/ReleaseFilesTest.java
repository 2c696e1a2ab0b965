package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.testing.RepositoryFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What a user copies must be what the build produces: the version in README.md and the changelog
 * (the version itself is set once, in the parent pom, which every module inherits).
 */
final class ReleaseFilesTest {

  private static final String VERSION = System.getProperty("project.version", "");

  @Test
  void theReadmesDependencySnippetsNameTheVersionThisBuildProduces() {
    String readme = RepositoryFiles.read("README.md");
    List<String> found = new ArrayList<>();
    Matcher snippet =
        Pattern.compile(
                "<artifactId>(akka|pekko)-discovery-postgres</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(readme);
    while (snippet.find()) {
      found.add(snippet.group(1) + " " + snippet.group(2));
    }

    assertTrue(!VERSION.isEmpty(), "the build passes project.version to the tests");
    assertEquals(List.of("akka " + VERSION, "pekko " + VERSION), found);
  }

  @Test
  void theChangelogHasAnEntryForThisVersion() {
    String release = VERSION.replace("-SNAPSHOT", "");
    String changelog = RepositoryFiles.read("CHANGELOG.md");

    assertTrue(
        changelog.contains("\n## " + release + " "), "CHANGELOG.md has no entry for " + release);
    assertTrue(
        RepositoryFiles.read("LICENSE")
            .contains("Apache License\n                           Version 2.0"));
  }
}
