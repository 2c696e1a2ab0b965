package io.github.pgdiscovery.sample;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The PostgreSQL server the local nodes discover each other through: the user's own, or an embedded
 * one.
 */
final class LocalDatabase {

  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)([?&]password=)[^&]*");
  private static final Pattern USER_INFO = Pattern.compile("(//[^/:@]*:)[^/@]*@");

  /** Whose environment variables the nodes read the database from. */
  private final Toolkit toolkit;

  private final String url;
  private final String user;
  private final String password;
  private final EmbeddedPostgres embedded;

  private LocalDatabase(
      Toolkit toolkit, String url, String user, String password, EmbeddedPostgres embedded) {
    this.toolkit = toolkit;
    this.url = url;
    this.user = user;
    this.password = password;
    this.embedded = embedded;
  }

  /**
   * The database named by the toolkit's URL variable (such as AKKA_DISCOVERY_POSTGRES_URL), null
   * when not set.
   */
  static LocalDatabase fromEnvironment(Toolkit toolkit, Map<String, String> env) {
    String url = blankToNull(env.get(toolkit.urlEnv()));
    if (url == null) {
      return null;
    }
    return new LocalDatabase(
        toolkit,
        url.trim(),
        blankToNull(env.get(toolkit.userEnv())),
        blankToNull(env.get(toolkit.passwordEnv())),
        null);
  }

  /** Starts an embedded server on a free port; its own output goes to {@code logFile}. */
  static LocalDatabase startEmbedded(Toolkit toolkit, Path logFile) throws IOException {
    ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(logFile.toFile());
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder().setOutputRedirector(log).setErrorRedirector(log).start();
    return new LocalDatabase(
        toolkit, postgres.getJdbcUrl("postgres", "postgres"), "postgres", null, postgres);
  }

  boolean isEmbedded() {
    return embedded != null;
  }

  /**
   * The variables the nodes read (see the toolkit's library's reference.conf); a null value means
   * "remove", so a user or password in the launcher's environment cannot reach an embedded server
   * meant to be used without them.
   */
  Map<String, String> nodeEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(toolkit.urlEnv(), url);
    env.put(toolkit.userEnv(), user);
    env.put(toolkit.passwordEnv(), password);
    return env;
  }

  /** For the console: the URL with any password in it replaced, and whether a password is used. */
  String describe() {
    String shown =
        USER_INFO.matcher(PASSWORD_PARAMETER.matcher(url).replaceAll("$1***")).replaceAll("$1***@");
    return shown
        + (user != null ? ", user " + user : "")
        + (password != null ? ", password from " + toolkit.passwordEnv() : "");
  }

  /** Stops the embedded server; a database given by the user is left alone. */
  void close() {
    if (embedded == null) {
      return;
    }
    try {
      embedded.close();
    } catch (IOException e) {
      System.err.println("Could not stop the embedded PostgreSQL cleanly: " + e.getMessage());
    }
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }
}
