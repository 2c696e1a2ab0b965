package io.github.pgdiscovery.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;

/**
 * A dedicated embedded PostgreSQL (io.zonky) that speaks TLS and accepts TCP connections only over
 * TLS, for the tests that need {@code ssl=on}; it is independent of the database {@link
 * PostgresExtension} shares.
 *
 * <p>The server reads its own {@code pg_hba.conf}, written next to the certificate: {@code hostssl}
 * lines for the loopback addresses, and {@code hostnossl} lines that reject everything else, so
 * that a connection that did not negotiate TLS is refused rather than silently accepted.
 *
 * <p>PostgreSQL refuses to start unless the key file is owned by the user that runs the server and
 * has no group or other permissions. io.zonky runs initdb and postgres as the user running this JVM
 * (it never switches users; on a machine where the tests run as root, the server runs as root), so
 * the key file must be owned by that user: {@link #start} makes it so, taking the owner from a file
 * it has just created itself, and sets mode 0600.
 */
public final class TlsPostgres implements AutoCloseable {

  /** The superuser initdb creates; authentication is {@code trust}, so no password. */
  public static final String USER = "postgres";

  public static final String DATABASE = "postgres";

  private static final List<String> HBA_LINES =
      List.of(
          "# Written by " + TlsPostgres.class.getName() + ": TCP only over TLS.",
          "local     all  all                trust",
          "hostssl   all  all  127.0.0.1/32  trust",
          "hostssl   all  all  ::1/128       trust",
          "hostnossl all  all  0.0.0.0/0     reject",
          "hostnossl all  all  ::/0          reject");

  private final EmbeddedPostgres postgres;

  private TlsPostgres(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts a server presenting {@code certificateFile} (PEM, the server certificate, optionally
   * followed by intermediates) with the key in {@code keyFile} (PEM); {@code directory} receives
   * the server's {@code pg_hba.conf}. None of the paths may contain white space: io.zonky passes
   * them on pg_ctl's command line.
   */
  public static TlsPostgres start(Path directory, Path certificateFile, Path keyFile)
      throws IOException {
    Path hbaFile =
        Files.write(directory.resolve("pg_hba.conf"), HBA_LINES, StandardCharsets.US_ASCII);
    restrictToServerUser(keyFile, hbaFile);
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder()
            .setServerConfig("ssl", "on")
            .setServerConfig("ssl_cert_file", commandLinePath(certificateFile))
            .setServerConfig("ssl_key_file", commandLinePath(keyFile))
            .setServerConfig("hba_file", commandLinePath(hbaFile))
            // io.zonky's own start-up check must get through the hostssl-only pg_hba.conf.
            .setConnectConfig("sslmode", "require")
            .start();
    return new TlsPostgres(postgres);
  }

  public int port() {
    return postgres.getPort();
  }

  /**
   * {@code jdbc:postgresql://host:port/postgres?parameters}; the caller URL-encodes the values in
   * {@code parameters}, for example with {@link #urlValue}.
   */
  public String jdbcUrl(String host, String parameters) {
    return "jdbc:postgresql://"
        + host
        + ":"
        + port()
        + "/"
        + DATABASE
        + (parameters.isEmpty() ? "" : "?" + parameters);
  }

  /** A value for a JDBC URL parameter, such as a file path for {@code sslrootcert}. */
  public static String urlValue(Object value) {
    return URLEncoder.encode(value.toString(), StandardCharsets.UTF_8);
  }

  /** A new connection as {@link #USER} to {@link #jdbcUrl}; the caller closes it. */
  public Connection openConnection(String host, String parameters) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("ApplicationName", "pgdiscovery-test-tls-admin");
    return DriverManager.getConnection(jdbcUrl(host, parameters), properties);
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }

  @Override
  public String toString() {
    return "TlsPostgres[localhost:" + port() + "]";
  }

  /**
   * Gives {@code keyFile} the owner of {@code createdByUs} (so, the user running this JVM, and so
   * the server) and mode 0600. Nothing to do where files have no POSIX owner and mode: PostgreSQL
   * checks neither there.
   */
  private static void restrictToServerUser(Path keyFile, Path createdByUs) throws IOException {
    if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      return;
    }
    UserPrincipal serverUser = Files.getOwner(createdByUs);
    if (!Files.getOwner(keyFile).equals(serverUser)) {
      Files.setOwner(keyFile, serverUser);
    }
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
  }

  private static String commandLinePath(Path path) {
    String absolute = path.toAbsolutePath().toString();
    if (absolute.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("path must not contain white space: " + absolute);
    }
    return absolute;
  }
}
