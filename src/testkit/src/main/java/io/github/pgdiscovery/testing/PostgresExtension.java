package io.github.pgdiscovery.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Gives tests a real PostgreSQL server: {@code @ExtendWith(PostgresExtension.class)} and declare a
 * {@link TestDatabase} parameter on a constructor, a lifecycle method or a test method.
 *
 * <p>One server is started lazily, on the first resolution, and shared by every test class of the
 * JVM; it lives in the root {@link ExtensionContext.Store} and is stopped when that store is closed
 * at the end of the run. The source is, in order of preference:
 *
 * <ol>
 *   <li>the JDBC URL in {@value #URL_ENV} (with optional {@value #USER_ENV} / {@value
 *       #PASSWORD_ENV});
 *   <li>a Testcontainers {@code postgres:<version>-alpine} container when Docker is reachable;
 *   <li>an embedded PostgreSQL (io.zonky), which needs neither Docker nor a local installation.
 * </ol>
 *
 * The container and the embedded server are of the major version in the system property {@value
 * #VERSION_PROPERTY} (the build sets it from {@code -Dpostgres.version}, which also picks the
 * embedded binaries).
 */
public final class PostgresExtension implements ParameterResolver {

  public static final String URL_ENV = "AKKA_DISCOVERY_POSTGRES_TEST_URL";
  public static final String USER_ENV = "AKKA_DISCOVERY_POSTGRES_TEST_USER";
  public static final String PASSWORD_ENV = "AKKA_DISCOVERY_POSTGRES_TEST_PASSWORD";

  public static final String VERSION_PROPERTY = "postgres.version";

  /** The major version the build asks for, when the server is not an external one. */
  public static final String VERSION = System.getProperty(VERSION_PROPERTY, "18");

  static final String CONTAINER_IMAGE = "postgres:" + VERSION + "-alpine";
  static final int MAX_CONNECTIONS = 300;

  /** Upper bound on the Docker probe, so a misconfigured DOCKER_HOST cannot stall the suite. */
  private static final Duration DOCKER_PROBE_TIMEOUT = Duration.ofSeconds(20);

  private static final Logger LOG = LoggerFactory.getLogger(PostgresExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PostgresExtension.class);
  private static final String SERVER_KEY = "server";

  /**
   * The root store computes lazily and atomically already; the lock makes "once per JVM" explicit.
   */
  private static final Object START_LOCK = new Object();

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == TestDatabase.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return database(extensionContext);
  }

  /** The shared database, starting the server on first use. */
  public static TestDatabase database(ExtensionContext context) {
    ExtensionContext.Store store = context.getRoot().getStore(NAMESPACE);
    synchronized (START_LOCK) {
      return store
          .getOrComputeIfAbsent(SERVER_KEY, key -> startServer(), RunningServer.class)
          .database();
    }
  }

  private static RunningServer startServer() {
    String url = System.getenv(URL_ENV);
    if (url != null && !url.isBlank()) {
      return external(url.trim());
    }
    if (dockerAvailable()) {
      return container();
    }
    return embedded();
  }

  private static RunningServer external(String url) {
    String user = blankToNull(System.getenv(USER_ENV));
    String password = blankToNull(System.getenv(PASSWORD_ENV));
    LOG.info("PostgreSQL for tests: external server from {} ({})", URL_ENV, redactPassword(url));
    return new RunningServer(new TestDatabase(url, user, password, "external"), () -> {});
  }

  private static RunningServer container() {
    long started = System.nanoTime();
    PostgreSQLContainer<?> container =
        new PostgreSQLContainer<>(DockerImageName.parse(CONTAINER_IMAGE))
            .withCommand("postgres", "-c", "max_connections=" + MAX_CONNECTIONS);
    container.start();
    LOG.info(
        "PostgreSQL for tests: Testcontainers {} at {} (started in {} ms)",
        CONTAINER_IMAGE,
        container.getJdbcUrl(),
        elapsedMillis(started));
    TestDatabase database =
        new TestDatabase(
            container.getJdbcUrl(),
            container.getUsername(),
            container.getPassword(),
            "testcontainers");
    return new RunningServer(database, container::stop);
  }

  private static RunningServer embedded() {
    long started = System.nanoTime();
    EmbeddedPostgres postgres;
    try {
      postgres =
          EmbeddedPostgres.builder()
              .setServerConfig("max_connections", Integer.toString(MAX_CONNECTIONS))
              .start();
    } catch (IOException e) {
      throw new ParameterResolutionException("Could not start embedded PostgreSQL", e);
    }
    String url = postgres.getJdbcUrl("postgres", "postgres");
    LOG.info(
        "PostgreSQL for tests: embedded (io.zonky) at {} (Docker not available; started in {} ms)",
        url,
        elapsedMillis(started));
    return new RunningServer(new TestDatabase(url, "postgres", null, "embedded"), postgres::close);
  }

  /**
   * Asks Testcontainers whether Docker is reachable. The probe runs on a daemon thread with a time
   * limit, and any failure, including a linkage problem, counts as "no Docker".
   */
  private static boolean dockerAvailable() {
    FutureTask<Boolean> probe =
        new FutureTask<>(() -> DockerClientFactory.instance().isDockerAvailable());
    Thread thread = new Thread(probe, "pgdiscovery-docker-probe");
    thread.setDaemon(true);
    thread.start();
    long started = System.nanoTime();
    try {
      boolean available = probe.get(DOCKER_PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      LOG.debug("Docker probe answered {} in {} ms", available, elapsedMillis(started));
      return available;
    } catch (TimeoutException e) {
      LOG.warn(
          "Docker probe did not answer within {}; assuming Docker is not available",
          DOCKER_PROBE_TIMEOUT);
      probe.cancel(true);
      return false;
    } catch (ExecutionException e) {
      LOG.debug("Docker probe failed; assuming Docker is not available", e.getCause());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ParameterResolutionException("Interrupted while probing for Docker", e);
    }
  }

  /** Keeps a password given as a URL parameter out of the log. */
  private static String redactPassword(String url) {
    return url.replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  private static long elapsedMillis(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @FunctionalInterface
  private interface Stopper {
    void stop() throws Exception;
  }

  /** Root-store entry: closing it (at the end of the run) stops the server. */
  private static final class RunningServer implements ExtensionContext.Store.CloseableResource {
    private final TestDatabase database;
    private final Stopper stopper;

    RunningServer(TestDatabase database, Stopper stopper) {
      this.database = database;
      this.stopper = stopper;
    }

    TestDatabase database() {
      return database;
    }

    @Override
    public void close() throws Exception {
      database.close();
      LOG.debug("Stopping PostgreSQL for tests ({})", database);
      stopper.stop();
    }
  }
}
