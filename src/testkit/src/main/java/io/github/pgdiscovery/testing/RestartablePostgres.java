package io.github.pgdiscovery.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A dedicated embedded PostgreSQL (io.zonky) that can be stopped and started again on the same port
 * and data directory, as a real server restart: clients lose their connections and find the server
 * at the same address.
 */
public final class RestartablePostgres implements AutoCloseable {

  private final Path dataDirectory;
  private final int port;
  private EmbeddedPostgres postgres;

  private RestartablePostgres(Path dataDirectory, int port) {
    this.dataDirectory = dataDirectory;
    this.port = port;
  }

  public static RestartablePostgres start(Path dataDirectory) throws IOException {
    RestartablePostgres server = new RestartablePostgres(dataDirectory, TcpProxy.freePort());
    server.startServer();
    return server;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  /**
   * Stops the server (fast shutdown: connections are terminated) and starts it again on the same
   * data.
   */
  public void restart() throws IOException {
    postgres.close();
    startServer();
  }

  /**
   * Creates (or alters) the login role {@code role} with {@code password} and makes the server ask
   * it for that password over TCP (scram-sha-256), while every other role keeps the trust of the
   * test server. Change the password later with {@code ALTER ROLE} through {@link #jdbcUrl()}.
   */
  public void requirePassword(String role, String password) throws IOException, SQLException {
    if (!role.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("not a plain role name: " + role);
    }
    try (Connection admin = DriverManager.getConnection(jdbcUrl());
        Statement statement = admin.createStatement()) {
      statement.execute("SET password_encryption = 'scram-sha-256'");
      statement.execute(
          "DO $$ BEGIN CREATE ROLE "
              + role
              + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
      try (PreparedStatement alter =
          admin.prepareStatement("SELECT format('ALTER ROLE %I PASSWORD %L', ?::text, ?::text)")) {
        alter.setString(1, role);
        alter.setString(2, password);
        try (ResultSet sql = alter.executeQuery()) {
          sql.next();
          statement.execute(sql.getString(1));
        }
      }
      // The first matching line decides: these go before the trust lines initdb wrote.
      Path hba = dataDirectory.resolve("pg_hba.conf");
      String rules =
          "host all "
              + role
              + " 127.0.0.1/32 scram-sha-256\n"
              + "host all "
              + role
              + " ::1/128 scram-sha-256\n";
      Files.writeString(hba, rules + Files.readString(hba));
      statement.execute("SELECT pg_reload_conf()");
    }
    // The postmaster reloads in the background.
    Poll.until(
        Duration.ofSeconds(10),
        "the server asks " + role + " for a password",
        () -> !connectsWithoutPassword(role));
  }

  private boolean connectsWithoutPassword(String role) {
    try (Connection ignored = DriverManager.getConnection(jdbcUrlAs(role))) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  /** The URL as {@code role}, with no password in it. */
  public String jdbcUrlAs(String role) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + role;
  }

  public void stop() throws IOException {
    postgres.close();
  }

  public void startAgain() throws IOException {
    startServer();
  }

  private void startServer() throws IOException {
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(false)
            .setPort(port)
            .start();
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
