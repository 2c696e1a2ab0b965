package io.github.pgdiscovery.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;

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
