package io.github.pgdiscovery.sample;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** The PostgreSQL server the local nodes discover each other through: the user's own, or an embedded one. */
final class LocalDatabase {

  static final String URL_ENV = "AKKA_DISCOVERY_POSTGRES_URL";
  static final String USER_ENV = "AKKA_DISCOVERY_POSTGRES_USER";
  static final String PASSWORD_ENV = "AKKA_DISCOVERY_POSTGRES_PASSWORD";

  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)([?&]password=)[^&]*");
  private static final Pattern USER_INFO = Pattern.compile("(//[^/:@]*:)[^/@]*@");

  private final String url;
  private final String user;
  private final String password;
  private final EmbeddedPostgres embedded;

  private LocalDatabase(String url, String user, String password, EmbeddedPostgres embedded) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.embedded = embedded;
  }

  /** The database named by {@value #URL_ENV}, or null when that is not set. */
  static LocalDatabase fromEnvironment(Map<String, String> env) {
    String url = blankToNull(env.get(URL_ENV));
    if (url == null) {
      return null;
    }
    return new LocalDatabase(url.trim(), blankToNull(env.get(USER_ENV)), blankToNull(env.get(PASSWORD_ENV)), null);
  }

  /** Starts an embedded server on a free port; its own output goes to {@code logFile}. */
  static LocalDatabase startEmbedded(Path logFile) throws IOException {
    ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(logFile.toFile());
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder().setOutputRedirector(log).setErrorRedirector(log).start();
    return new LocalDatabase(postgres.getJdbcUrl("postgres", "postgres"), "postgres", null, postgres);
  }

  boolean isEmbedded() {
    return embedded != null;
  }

  /**
   * The variables the nodes read (see the library's reference.conf); a null value means "remove", so a user or
   * password in the launcher's environment cannot reach an embedded server meant to be used without them.
   */
  Map<String, String> nodeEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(URL_ENV, url);
    env.put(USER_ENV, user);
    env.put(PASSWORD_ENV, password);
    return env;
  }

  /** For the console: the URL with any password in it replaced, and whether a password is used. */
  String describe() {
    String shown = USER_INFO.matcher(PASSWORD_PARAMETER.matcher(url).replaceAll("$1***")).replaceAll("$1***@");
    return shown
        + (user != null ? ", user " + user : "")
        + (password != null ? ", password from " + PASSWORD_ENV : "");
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
