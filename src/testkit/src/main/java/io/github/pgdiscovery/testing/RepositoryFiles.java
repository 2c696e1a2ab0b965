package io.github.pgdiscovery.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Files of the repository (README.md, other modules' sources), for tests that check what a user
 * reads.
 */
public final class RepositoryFiles {

  private RepositoryFiles() {}

  /**
   * {@code relative} to the repository's root, which the build passes as {@code repository.root} (a
   * test run from an IDE without it runs in its module's directory, two levels below the root for
   * modules under src/).
   */
  public static Path path(String relative) {
    String root = System.getProperty("repository.root");
    Path base = root == null || root.isBlank() ? Path.of("../..") : Path.of(root);
    return base.resolve(relative).normalize();
  }

  public static String read(String relative) {
    try {
      return Files.readString(path(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
