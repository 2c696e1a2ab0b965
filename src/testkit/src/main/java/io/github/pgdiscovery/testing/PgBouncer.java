package io.github.pgdiscovery.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PgBouncer process in front of a PostgreSQL server, for the tests that must see what a
 * pooler does to a session (which server backend a client gets, which notifications reach it), not
 * what a proxy made to imitate one does.
 *
 * <p>Start one with {@link #builder(TestDatabase)} (or {@link #builder(String, int, String,
 * String)}) and {@link Builder#start()}: it listens on 127.0.0.1 on a free port, lets clients in
 * without a password ({@code auth_type = trust}), and logs in to the server as the client's user,
 * with the password given to the builder when the server asks for one. {@link Builder#start()}
 * returns once PgBouncer answers on its admin console, and {@link #close()} stops the process and
 * deletes its files.
 *
 * <p>PgBouncer refuses to run as root. When this JVM runs as root (a CI container), the process is
 * started with {@code -u postgres} (or {@code -u nobody} where there is no postgres user):
 * PgBouncer reads its configuration and auth file as root and then switches to that user. Its files
 * are in a temporary directory owned by that user, so that a {@code RELOAD} on the admin console,
 * which reads them again as that user, works too. PgBouncer writes its log to standard error, which
 * is redirected to {@link #logFile()}: that way the log also has what it says before it could open
 * a log file of its own (a bad setting, a port in use, "should not run as root"), and the file is
 * the JVM's, whoever PgBouncer runs as.
 *
 * <p>Where PgBouncer is not installed, {@link #requireBinary()} (which {@link Builder#start()}
 * calls) skips the test, or fails it in CI; see there.
 */
public final class PgBouncer implements AutoCloseable {

  /** How long PgBouncer may take to answer on its admin console after it was started. */
  private static final Duration START_DEADLINE = Duration.ofSeconds(15);

  /** How long it may take to exit on SIGTERM (a "fast exit") before it is killed. */
  private static final Duration STOP_DEADLINE = Duration.ofSeconds(5);

  /** Attempts at starting, each on another port, when the port was taken by someone else. */
  private static final int START_ATTEMPTS = 3;

  private static final int LOG_TAIL_LINES = 30;

  /** The one line a developer (skipped) or CI (failed) reads when PgBouncer is not installed. */
  public static final String NOT_INSTALLED =
      "pgbouncer not found on the PATH or in /usr/sbin; install it (Debian/Ubuntu: apt-get install"
          + " pgbouncer; macOS: brew install pgbouncer) to run the pooler tests";

  /** Where package managers put the binary, looked at after the PATH (sbin is often not on it). */
  private static final List<Path> KNOWN_LOCATIONS =
      List.of(
          Path.of("/usr/sbin/pgbouncer"),
          Path.of("/usr/local/bin/pgbouncer"),
          Path.of("/usr/local/sbin/pgbouncer"),
          Path.of("/opt/homebrew/bin/pgbouncer"));

  /** PgBouncer's {@code pool_mode}; statement mode is left out, no test here needs it. */
  public enum PoolMode {
    /** A client keeps one server connection from login to logout. */
    SESSION,
    /** A client holds a server connection only for the length of each transaction. */
    TRANSACTION;

    String setting() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** One row of {@code SHOW POOLS}: the clients and server connections of one database and user. */
  public record Pool(
      int clientsActive,
      int clientsWaiting,
      int serversActive,
      int serversIdle,
      int serversUsed,
      int serversTested,
      int serversLogin,
      String poolMode) {

    /** Every server connection the pool has, whatever its state. */
    public int servers() {
      return serversActive + serversIdle + serversUsed + serversTested + serversLogin;
    }
  }

  /**
   * One row of {@code SHOW SERVERS}: a server connection, its state in the pool ({@code active},
   * {@code idle}, {@code used}, ...) and the process id of its backend.
   */
  public record Server(String database, String user, String state, int backendPid) {}

  private final Path directory;
  private final Path logFile;
  private final int port;
  private final String database;
  private final String user;
  private final PoolMode poolMode;
  private final Process process;
  private final Thread shutdownHook;
  private String version;
  private boolean closed;

  private PgBouncer(
      Path directory,
      Path logFile,
      int port,
      String database,
      String user,
      PoolMode poolMode,
      Process process) {
    this.directory = directory;
    this.logFile = logFile;
    this.port = port;
    this.database = database;
    this.user = user;
    this.poolMode = poolMode;
    this.process = process;
    // A JVM that exits without closing this (a test run stopped half-way) must not leave a pooler
    // and its files behind: PgBouncer does not notice that its parent went away. (A JVM that is
    // killed runs no hooks; PgBouncer then outlives it.)
    this.shutdownHook = new Thread(this::closeQuietly, "pgbouncer-stop-" + port);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** A PgBouncer in front of the shared test server, for its database and user. */
  public static Builder builder(TestDatabase db) {
    Properties url = db.urlProperties();
    String user = db.user() != null ? db.user() : url.getProperty("user", "postgres");
    String password = db.password() != null ? db.password() : url.getProperty("password");
    return new Builder(db.host(), db.port(), db.databaseName(), user).password(password);
  }

  /** A PgBouncer in front of the server at {@code host:port}, pooling {@code database}. */
  public static Builder builder(String host, int port, String database, String user) {
    return new Builder(host, port, database, user);
  }

  /** The pgbouncer executable: on the PATH, else in one of the usual places; empty if none. */
  public static Optional<Path> findBinary() {
    String path = System.getenv("PATH");
    Stream<Path> onPath =
        path == null
            ? Stream.empty()
            : Stream.of(path.split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry, "pgbouncer"));
    return Stream.concat(onPath, KNOWN_LOCATIONS.stream())
        .filter(candidate -> Files.isRegularFile(candidate) && Files.isExecutable(candidate))
        .findFirst();
  }

  /**
   * The pgbouncer executable. Without one, a developer's run skips the calling test (a machine
   * without PgBouncer is an ordinary one) and a CI run fails it (there, a skipped pooler test would
   * be a check that silently stopped running): both with {@link #NOT_INSTALLED}.
   */
  public static Path requireBinary() {
    Optional<Path> binary = findBinary();
    if (binary.isPresent()) {
      return binary.get();
    }
    if (inCi()) {
      throw new IllegalStateException(NOT_INSTALLED + " (CI=" + System.getenv("CI") + ")");
    }
    return Assumptions.abort(NOT_INSTALLED);
  }

  /**
   * True when the environment variable CI is set to anything but empty or "false": GitHub Actions
   * and most CI services set CI=true, and .ci/run exports it.
   */
  public static boolean inCi() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isBlank() && !ci.trim().equalsIgnoreCase("false");
  }

  /** The port PgBouncer listens on, on 127.0.0.1. */
  public int port() {
    return port;
  }

  public PoolMode poolMode() {
    return poolMode;
  }

  /**
   * {@code jdbc:postgresql://127.0.0.1:port/database?user=user}: the pooled database. In
   * transaction mode, pgjdbc's server-side prepared statements (after {@code prepareThreshold}
   * executions of one statement) may land on another server connection than the one they were
   * prepared on; add {@code prepareThreshold=0} where that matters.
   */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + user;
  }

  /**
   * The admin console ({@code pgbouncer} database). It speaks only the simple query protocol, hence
   * {@code preferQueryMode=simple}; pgjdbc then works with it, logging a warning that it does not
   * know the server version ("1.18.0/bouncer") on each connection.
   */
  public String adminJdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:"
        + port
        + "/pgbouncer?user="
        + user
        + "&preferQueryMode=simple&connectTimeout=2&socketTimeout=10"
        + "&ApplicationName=pgdiscovery-test-pgbouncer-admin";
  }

  /** {@code SHOW VERSION}, as it answered when it had started: "PgBouncer 1.18.0" or the like. */
  public String version() {
    return version;
  }

  /** Where PgBouncer's log (its standard error and output) goes, until {@link #close()}. */
  public Path logFile() {
    return logFile;
  }

  /** PgBouncer's log so far. */
  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The pool of the pooled database and user ({@code SHOW POOLS}); empty before its first use. */
  public Optional<Pool> pool() throws SQLException {
    for (Map<String, String> row : show("POOLS")) {
      if (database.equals(row.get("database")) && user.equals(row.get("user"))) {
        return Optional.of(
            new Pool(
                intColumn(row, "cl_active"),
                intColumn(row, "cl_waiting"),
                intColumn(row, "sv_active"),
                intColumn(row, "sv_idle"),
                intColumn(row, "sv_used"),
                intColumn(row, "sv_tested"),
                intColumn(row, "sv_login"),
                row.get("pool_mode")));
      }
    }
    return Optional.empty();
  }

  /** The server connections PgBouncer holds ({@code SHOW SERVERS}), in the order it lists them. */
  public List<Server> servers() throws SQLException {
    List<Server> servers = new ArrayList<>();
    for (Map<String, String> row : show("SERVERS")) {
      servers.add(
          new Server(
              row.get("database"),
              row.get("user"),
              row.get("state"),
              intColumn(row, "remote_pid")));
    }
    return servers;
  }

  /**
   * Any {@code SHOW} command of the admin console ({@code POOLS}, {@code SERVERS}, {@code CLIENTS},
   * {@code STATS}, ...): its rows, column name to value as text.
   */
  public List<Map<String, String>> show(String what) throws SQLException {
    if (!what.matches("[A-Za-z_]+")) {
      throw new IllegalArgumentException("not a SHOW command: " + what);
    }
    try (Connection connection = DriverManager.getConnection(adminJdbcUrl());
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SHOW " + what)) {
      List<Map<String, String>> rows = new ArrayList<>();
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        Map<String, String> row = new LinkedHashMap<>();
        for (int i = 1; i <= columns; i++) {
          row.put(rs.getMetaData().getColumnName(i), rs.getString(i));
        }
        rows.add(row);
      }
      return rows;
    }
  }

  /**
   * Stops PgBouncer (SIGTERM, on which it exits at once, closing every connection; SIGKILL if it
   * has not within 5 s; the same for any process it started, though it starts none unless told to
   * daemonize) and deletes its files, the log included.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<ProcessHandle> children = process.descendants().toList();
    stop(process.toHandle());
    children.forEach(PgBouncer::stop);
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down already; the hook runs anyway and finds the process gone.
    }
    deleteRecursively(directory);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      // The JVM is exiting; nobody is left to tell.
    }
  }

  @Override
  public String toString() {
    return "PgBouncer[127.0.0.1:" + port + ", " + poolMode.setting() + ", " + version + "]";
  }

  private static void stop(ProcessHandle handle) {
    if (!handle.isAlive()) {
      return;
    }
    handle.destroy();
    try {
      handle.onExit().get(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception notInTime) {
      handle.destroyForcibly();
      try {
        handle.onExit().get(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("pgbouncer (pid " + handle.pid() + ") did not exit", e);
      }
    }
  }

  private static int intColumn(Map<String, String> row, String column) {
    String value = row.get(column);
    return value == null || value.isEmpty() ? 0 : Integer.parseInt(value);
  }

  /** Settings of one PgBouncer; {@link #start()} starts it. */
  public static final class Builder {
    private final String serverHost;
    private final int serverPort;
    private final String database;
    private final String user;
    private String password;
    private PoolMode poolMode = PoolMode.SESSION;
    private Integer defaultPoolSize;
    private Boolean serverRoundRobin;
    private final Map<String, String> settings = new LinkedHashMap<>();

    private Builder(String serverHost, int serverPort, String database, String user) {
      this.serverHost = requireWord(serverHost, "serverHost");
      this.serverPort = serverPort;
      this.database = requireWord(database, "database");
      this.user = requireWord(user, "user");
    }

    /** The password PgBouncer logs in to the server with, when the server asks for one. */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /** {@code pool_mode}; session when not set, as PgBouncer's own default. */
    public Builder poolMode(PoolMode poolMode) {
      this.poolMode = Objects.requireNonNull(poolMode, "poolMode");
      return this;
    }

    /** {@code default_pool_size}: server connections per database and user; PgBouncer's is 20. */
    public Builder defaultPoolSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("default_pool_size must be at least 1: " + size);
      }
      this.defaultPoolSize = size;
      return this;
    }

    /**
     * {@code server_round_robin}: false (PgBouncer's default) reuses the server connection released
     * last (LIFO), true takes them in turn.
     */
    public Builder serverRoundRobin(boolean roundRobin) {
      this.serverRoundRobin = roundRobin;
      return this;
    }

    /** Any other setting of the {@code [pgbouncer]} section, written as given. */
    public Builder setting(String name, String value) {
      settings.put(requireWord(name, "setting name"), Objects.requireNonNull(value, name));
      return this;
    }

    /**
     * Starts PgBouncer and waits until its admin console answers; skips or fails the test where
     * PgBouncer is not installed (see {@link #requireBinary()}).
     */
    public PgBouncer start() throws IOException {
      Path binary = requireBinary();
      for (int attempt = 1; ; attempt++) {
        try {
          return startOn(binary, Ports.free());
        } catch (PortTaken e) {
          if (attempt == START_ATTEMPTS) {
            throw new IllegalStateException(e.getMessage());
          }
        }
      }
    }

    private PgBouncer startOn(Path binary, int port) throws IOException, PortTaken {
      Path directory = Files.createTempDirectory("pgbouncer-");
      Path config = directory.resolve("pgbouncer.ini");
      Path authFile = directory.resolve("userlist.txt");
      Path logFile = directory.resolve("pgbouncer.log");
      List<String> command = new ArrayList<>();
      Process process = null;
      try {
        Files.writeString(config, config(port, authFile), StandardCharsets.UTF_8);
        Files.writeString(authFile, authLine(), StandardCharsets.UTF_8);
        restrictToOwner(authFile);
        command.add(binary.toString());
        Optional<UserPrincipal> runAs = runAsUser(directory);
        if (runAs.isPresent()) {
          command.add("-u");
          command.add(runAs.get().getName());
          for (Path file : List.of(directory, config, authFile)) {
            Files.setOwner(file, runAs.get());
          }
        }
        command.add(config.toString());
        process =
            new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        process.getOutputStream().close();
      } catch (IOException | RuntimeException e) {
        if (process != null) {
          stop(process.toHandle());
        }
        deleteRecursively(directory);
        throw e;
      }
      // From here on close() cleans up; awaitStarted calls it when PgBouncer did not start.
      PgBouncer bouncer =
          new PgBouncer(directory, logFile, port, database, user, poolMode, process);
      bouncer.awaitStarted(command);
      return bouncer;
    }

    private String config(int port, Path authFile) {
      Map<String, String> pgbouncer = new LinkedHashMap<>();
      pgbouncer.put("listen_addr", "127.0.0.1");
      pgbouncer.put("listen_port", Integer.toString(port));
      // No Unix socket: it would need a directory PgBouncer's user can write, and nothing uses it.
      pgbouncer.put("unix_socket_dir", "");
      pgbouncer.put("auth_type", "trust");
      // Even with trust the user must be listed; the password there is the one for the server.
      pgbouncer.put("auth_file", authFile.toString());
      pgbouncer.put("admin_users", user);
      pgbouncer.put("stats_users", user);
      pgbouncer.put("pool_mode", poolMode.setting());
      // pgjdbc sends extra_float_digits in its start-up packet, which PgBouncer refuses by default.
      pgbouncer.put("ignore_startup_parameters", "extra_float_digits");
      if (defaultPoolSize != null) {
        pgbouncer.put("default_pool_size", defaultPoolSize.toString());
      }
      if (serverRoundRobin != null) {
        pgbouncer.put("server_round_robin", serverRoundRobin ? "1" : "0");
      }
      pgbouncer.putAll(settings);
      StringBuilder ini = new StringBuilder();
      ini.append("; Written by ").append(PgBouncer.class.getName()).append('\n');
      ini.append("[databases]\n");
      ini.append(database)
          .append(" = host=")
          .append(serverHost)
          .append(" port=")
          .append(serverPort)
          .append(" dbname=")
          .append(database)
          .append('\n');
      ini.append("[pgbouncer]\n");
      pgbouncer.forEach((name, value) -> ini.append(name).append(" = ").append(value).append('\n'));
      return ini.toString();
    }

    private String authLine() {
      return quoted(user) + " " + quoted(password == null ? "" : password) + "\n";
    }

    private static String quoted(String value) {
      return '"' + value.replace("\"", "\"\"") + '"';
    }

    private static String requireWord(String value, String what) {
      Objects.requireNonNull(value, what);
      if (!value.matches("[A-Za-z0-9_.:-]+")) {
        throw new IllegalArgumentException(what + " must be a plain word: " + value);
      }
      return value;
    }
  }

  /** Waits until the admin console answers, failing early with the log when the process exits. */
  private void awaitStarted(List<String> command) throws PortTaken {
    try {
      Poll.until(
          START_DEADLINE,
          "pgbouncer answering on 127.0.0.1:" + port,
          () -> !process.isAlive() || answers(),
          this::logTail);
    } catch (AssertionError notInTime) {
      close();
      throw new IllegalStateException(
          "pgbouncer did not start within " + START_DEADLINE + ": " + command + "\n" + logTail(),
          notInTime);
    }
    if (version == null) {
      String tail = logTail();
      int exit = process.exitValue();
      close();
      String message =
          "pgbouncer exited with code " + exit + " at start-up: " + command + "\n" + tail;
      if (tail.contains("Address already in use")) {
        throw new PortTaken(message);
      }
      throw new IllegalStateException(message);
    }
  }

  /** True once {@code SHOW VERSION} answers on the admin console, which it remembers. */
  private boolean answers() {
    try (Connection connection = DriverManager.getConnection(adminJdbcUrl());
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SHOW VERSION")) {
      if (rs.next()) {
        version = rs.getString(1);
        return true;
      }
      return false;
    } catch (SQLException notYet) {
      return false;
    }
  }

  /** The last lines of the log, to put in an exception. */
  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
      return "pgbouncer log ("
          + logFile
          + ", last "
          + tail.size()
          + " lines):\n"
          + String.join("\n", tail);
    } catch (IOException e) {
      return "pgbouncer log " + logFile + " unreadable: " + e;
    }
  }

  /**
   * The user to run PgBouncer as when this JVM runs as root: postgres, else nobody. Empty when not
   * root (PgBouncer then runs as this JVM's user). Root is recognised by the owner of {@code
   * createdByUs}, a file this JVM has just created.
   */
  private static Optional<UserPrincipal> runAsUser(Path createdByUs) throws IOException {
    Object uid;
    try {
      uid = Files.getAttribute(createdByUs, "unix:uid");
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.empty(); // No Unix owners here, so no root either.
    }
    if (!Integer.valueOf(0).equals(uid)) {
      return Optional.empty();
    }
    for (String name : List.of("postgres", "nobody")) {
      try {
        return Optional.of(
            createdByUs
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByName(name));
      } catch (UserPrincipalNotFoundException next) {
        // Try the next one.
      }
    }
    throw new IllegalStateException(
        "this JVM runs as root, which PgBouncer refuses, and there is neither a postgres nor a"
            + " nobody user to run it as (pgbouncer -u)");
  }

  private static void restrictToOwner(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // No POSIX permissions here; the file is in a fresh temporary directory anyway.
    }
  }

  private static void deleteRecursively(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + directory, e);
    }
  }

  /** PgBouncer could not bind its port: someone took it between choosing and binding it. */
  private static final class PortTaken extends Exception {
    PortTaken(String message) {
      super(message, null, false, false);
    }
  }
}
